"""Trust finding 2: no secret ships with the code. Setup writes random keys once to an owner-only file outside
the repository and every make target passes them in; without SECRET_KEY nothing starts (demo mode included);
a known or weak key is an error outside demo mode; demo mode says so on every page, and warns when the
install holds more than the demo data."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks

from gridmap.apps import DEMO_HOUSEHOLDS, demo_data_check, secret_key_check

ROOT = Path(__file__).resolve().parent.parent
SECRETS = ["bash", str(ROOT / ".ci" / "secrets.sh")]


def _env(tmp_path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "GRIDMAP_DATA_KEY", "GRIDMAP_INDEX_KEY")}
    return {**env, "GRIDMAP_SECRETS_FILE": str(tmp_path / "conf" / "secrets.env"), **extra}


def test_setup_writes_random_owner_only_secrets_once_and_never_overwrites_them(tmp_path):
    env = _env(tmp_path)
    subprocess.run([*SECRETS, "ensure"], env=env, check=True, capture_output=True)
    file = tmp_path / "conf" / "secrets.env"
    first = file.read_text()
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    values = dict(re.findall(r"^(\w+)=(.+)$", first, re.M))
    assert set(values) == {"SECRET_KEY", "GRIDMAP_DATA_KEY", "GRIDMAP_INDEX_KEY"}
    assert len(values["SECRET_KEY"]) >= 60 and len(set(values["SECRET_KEY"])) > 20
    subprocess.run([*SECRETS, "ensure"], env=env, check=True, capture_output=True)
    assert file.read_text() == first  # the data key opens the data: a second setup keeps it
    other = tmp_path / "other"
    subprocess.run([*SECRETS, "ensure"], env={**env, "GRIDMAP_SECRETS_FILE": str(other)}, check=True)
    assert dict(re.findall(r"^(\w+)=(.+)$", other.read_text(), re.M))["SECRET_KEY"] != values["SECRET_KEY"]


def test_commands_get_the_files_secrets_unless_the_environment_gives_its_own(tmp_path):
    env = _env(tmp_path)
    subprocess.run([*SECRETS, "ensure"], env=env, check=True, capture_output=True)
    stored = dict(re.findall(r"^(\w+)=(.+)$", (tmp_path / "conf" / "secrets.env").read_text(), re.M))
    show = "import os; print(os.environ['SECRET_KEY'], os.environ['GRIDMAP_DATA_KEY'], os.environ['GRIDMAP_INDEX_KEY'])"
    every = subprocess.run([*SECRETS, "run", sys.executable, "-c", show], env=env, capture_output=True, text=True)
    assert every.stdout.split() == [stored[k] for k in ("SECRET_KEY", "GRIDMAP_DATA_KEY", "GRIDMAP_INDEX_KEY")]
    assert stored["GRIDMAP_DATA_KEY"].endswith("=")  # base64 padding survives the reading
    run = [*SECRETS, "run", sys.executable, "-c", "import os; print(os.environ['SECRET_KEY'])"]
    given = subprocess.run(run, env={**env, "SECRET_KEY": "from-the-environment"}, capture_output=True, text=True)
    assert given.stdout.strip() == "from-the-environment"


def test_nothing_starts_without_a_secret_key_not_even_in_demo_mode(tmp_path):
    env = _env(tmp_path, DEMO_MODE="true", GRIDMAP_SECRETS_FILE=str(tmp_path / "none"))
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "SECRET_KEY is not set" in result.stderr
    code = (ROOT / "gridmap" / "settings.py").read_text()
    assert "dev-only-insecure-key" not in code and not re.search(r'env\("SECRET_KEY", *"', code)


@pytest.mark.parametrize(
    "key, problem",
    [
        ("dev-only-insecure-key", "known"),
        ("django-insecure-" + "a1b2c3" * 10, "known"),
        ("x" * 60, "weak"),
        ("short", "weak"),
    ],
)
def test_a_known_or_weak_secret_key_is_an_error_outside_demo_mode_and_a_warning_in_it(settings, key, problem):
    settings.SECRET_KEY = key
    settings.DEMO_MODE, settings.DEBUG = False, False
    found = secret_key_check()
    assert [(type(m), m.id) for m in found] == [(checks.Error, "gridmap.E102")] and problem in found[0].msg
    settings.DEMO_MODE = True
    assert [m.id for m in secret_key_check()] == ["gridmap.W102"]
    settings.SECRET_KEY = "k7Q-" + "pX2vR9sT4wY6zB8nM1cF3hJ5" * 2 + "Lq0"
    assert secret_key_check() == []


def test_a_demo_install_holding_more_than_the_demo_data_is_warned(settings, db):
    from gridmap.models import Household

    settings.DEMO_MODE = True
    count = Household.objects.count()
    assert count <= DEMO_HOUSEHOLDS and demo_data_check(databases=["default"]) == []  # the demo street itself
    extra = Household.objects.order_by("pk")[: max(0, DEMO_HOUSEHOLDS + 1 - count)]
    first = Household.objects.order_by("pk").first()
    clones = [Household(location=first.location, address=f"复制 {h.pk}", head_name="张三") for h in extra]
    Household.objects.bulk_create(clones)
    warned = demo_data_check(databases=["default"])
    assert [m.id for m in warned] == ["gridmap.W103"] and str(DEMO_HOUSEHOLDS) in warned[0].msg
    assert demo_data_check() == []  # only with --database, as `make run` runs it
    settings.DEMO_MODE = False
    assert demo_data_check(databases=["default"]) == []


def test_every_page_says_demo_mode_and_only_in_demo_mode(client, settings, db):
    settings.DEMO_MODE = True
    page = client.get("/accounts/login/").content.decode()
    assert 'class="demo-banner"' in page and "演示模式：请勿录入真实数据" in page
    settings.DEMO_MODE = False
    assert "demo-banner" not in client.get("/accounts/login/").content.decode()


def test_the_demo_data_check_lets_migrate_run_on_a_new_database(db):
    """`migrate` runs the checks with the database before it creates any table: the check must not fail."""
    from django.db import connection

    with connection.cursor() as cursor:  # as on a new database (DDL is rolled back with the test)
        cursor.execute("ALTER TABLE gridmap_household RENAME TO gridmap_household_away")
    assert demo_data_check(databases=["default"]) == []
