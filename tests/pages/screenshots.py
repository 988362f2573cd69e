"""``make screenshots``: every page of ``tests.pages.world.PAGES`` at 1280 × 800 and on a
375 × 667 phone, as PNGs in var/screenshots/ (``<page>-desktop.png``, ``<page>-phone.png``:
the whole page, scrolled). The world is seeded into a throwaway SQLite database
(var/screenshots/world.sqlite3), never the one ``DATABASE_URL`` names, and served by a live
server in this process.

    python -m tests.pages.screenshots [--out DIR] [--docs]

``--docs`` also refreshes the README's pictures: docs/queue.png (the queue, 1280 × 800) and
docs/customer-phone.png (the customer's page on a phone, the whole page).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "var" / "screenshots"))
    parser.add_argument("--docs", action="store_true", help="refresh docs/*.png too")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    database = out / "world.sqlite3"
    database.unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.pop("DATABASE_REPLICA_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "caseowner.settings")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.management import call_command
    from django.test.testcases import LiveServerThread
    from django.test.utils import override_settings

    from tests.pages.world import (
        CHROMIUM,
        DESKTOP,
        PAGES,
        PHONE,
        chromium,
        seed_world,
        session_cookie,
        signed_in,
    )

    if not Path(CHROMIUM).exists():
        print(f"needs Chromium at {CHROMIUM}", file=sys.stderr)
        return 2
    started = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    with override_settings(
        ALLOWED_HOSTS=["*"],
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        AXES_ENABLED=False,
    ):
        world = seed_world()
        server = LiveServerThread("localhost", StaticFilesHandler, port=0)
        server.daemon = True
        server.start()
        server.is_ready.wait()
        if server.error:
            raise server.error
        base = f"http://localhost:{server.port}"
        world["sessions"] = {who: session_cookie(world[who], base) for who in ("owner", "manager")}
        written = 0
        try:
            with chromium() as browser:
                for size, options in (("desktop", DESKTOP), ("phone", PHONE)):
                    by_who: dict[str | None, list] = {}
                    for p in PAGES:
                        by_who.setdefault(p.who, []).append(p)
                    for who, pages in by_who.items():
                        with signed_in(browser, world, who, **options) as page:
                            for p in pages:
                                page.goto(base + p.path(world))
                                page.screenshot(
                                    path=str(out / f"{p.name}-{size}.png"), full_page=True
                                )
                                written += 1
                                if args.docs and (p.name, size) == ("queue", "desktop"):
                                    page.screenshot(path=str(ROOT / "docs" / "queue.png"))
                                if args.docs and (p.name, size) == ("customer-page", "phone"):
                                    page.screenshot(
                                        path=str(ROOT / "docs" / "customer-phone.png"),
                                        full_page=True,
                                        scale="css",
                                    )
        finally:
            server.terminate()
    print(f"{written} screenshots in {out} ({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
