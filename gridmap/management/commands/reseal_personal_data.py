"""Re-encrypt every sealed phone and ID number under the current GRIDMAP_DATA_KEY (after a rotation)."""

from django.core.management.base import BaseCommand, CommandError

from gridmap.storage.resealing import reseal_all
from gridmap.storage.sealed_fields import SealError


class Command(BaseCommand):
    help = "Seal all phones and ID numbers again under the current data key (GRIDMAP_DATA_KEY/_ID)."

    def handle(self, *args, **options):
        try:
            counts = reseal_all()
        except SealError as exc:
            raise CommandError(f"{exc} — nothing was changed") from None
        for name, count in counts.items():
            self.stdout.write(f"{name}: {count}")
