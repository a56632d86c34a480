"""Every model field is classified; personal and sensitive data never leave in clear by default."""

from __future__ import annotations

from django.apps import apps

from gridmap.models.personal_data import CLASSIFICATION, GENERAL, PERSONAL, SENSITIVE, classification_of


def concrete_fields():
    for model in apps.get_app_config("gridmap").get_models():
        for field in model._meta.get_fields():
            if field.concrete or field.many_to_many and not field.auto_created:
                yield model.__name__, field.name


def test_every_model_field_is_classified():
    missing = [f"{m}.{f}" for m, f in concrete_fields() if classification_of(m, f) is None]
    assert missing == [], f"classify these fields in gridmap/models/personal_data.py: {missing}"


def test_the_classification_names_no_field_that_does_not_exist():
    existing = set(concrete_fields())
    stale = [f"{m}.{f}" for m, fields in CLASSIFICATION.items() for f in fields if (m, f) not in existing]
    assert stale == []


def test_the_labels_are_the_three_levels():
    assert {level for fields in CLASSIFICATION.values() for level in fields.values()} <= {GENERAL, PERSONAL, SENSITIVE}
    # the ID number is sealed at rest: every stored form of it stays sensitive
    assert {CLASSIFICATION["Household"][f"id_number_{part}"] for part in ("sealed", "digest", "masked")} == {SENSITIVE}
    assert CLASSIFICATION["Household"]["location"] == SENSITIVE
