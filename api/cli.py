"""The ``civic-input`` command: serve, migrate, create-admin, seed-demo, verify, purge,
rotate-key, migrate-key."""

import argparse
import getpass
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from pydantic import ValidationError

from api import __version__
from api.config import InsecureSettings, Settings, get_settings
from api.text import PrintableMessages

if TYPE_CHECKING:
    import sqlalchemy as sa

log = logging.getLogger("civic_input")


def migrations_dir() -> Path:
    """Where the Alembic scripts are: $CIVIC_MIGRATIONS_DIR when set, otherwise the
    ones shipped inside the package (api/migrations), wherever it is installed."""
    override = os.environ.get("CIVIC_MIGRATIONS_DIR")
    if override:
        if (Path(override) / "env.py").is_file():
            return Path(override)
        raise SystemExit(f"CIVIC_MIGRATIONS_DIR={override} holds no Alembic env.py")
    shipped = resources.files("api").joinpath("migrations")
    if isinstance(shipped, Path) and (shipped / "env.py").is_file():
        return shipped
    raise SystemExit("cannot find the migrations in the package (set CIVIC_MIGRATIONS_DIR)")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    return config


def migrate(database_url: str) -> None:
    """Bring the schema to the newest migration."""
    command.upgrade(alembic_config(database_url), "head")


@contextmanager
def migrated_engine(settings: Settings) -> Iterator["sa.Engine"]:
    """The database brought to the newest migration; its engine is disposed of afterwards."""
    from api.db import make_engine

    migrate(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(PrintableMessages())
    # Alembic and SQLAlchemy log SQL parameters at INFO; keep them quiet.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from api import serve

    # Once, here, before any worker starts: workers never migrate.
    migrate(settings.database_url)
    if settings.seed_demo_on_empty:
        from api import demo

        demo.seed_if_empty(settings)
    if args.workers > 1:
        return serve.run_workers(host=args.host, port=args.port, workers=args.workers)
    from api.main import create_app

    return serve.run(create_app(settings), host=args.host, port=args.port)


def _create_admin(settings: Settings, args: argparse.Namespace) -> int:
    from api.db import open_session
    from api.errors import Conflict
    from api.security import Security
    from api.services import accounts
    from models.user import Role, UserRegister

    password = os.environ.get("CIVIC_ADMIN_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            print("set CIVIC_ADMIN_PASSWORD or run in a terminal", file=sys.stderr)
            return 2
        password = getpass.getpass(f"password for {args.handle}: ")
        if password != getpass.getpass("again: "):
            print("the passwords differ", file=sys.stderr)
            return 2
    try:
        UserRegister(handle=args.handle, password=password)
    except ValidationError as exc:
        # Name the fields and what is wrong, never the input: it may be the password.
        problems = "; ".join(
            f"{'.'.join(map(str, err['loc']))}: {err['msg']}"
            for err in exc.errors(include_url=False, include_input=False)
        )
        print(f"not a valid handle or password: {problems}", file=sys.stderr)
        return 2
    with migrated_engine(settings) as engine, open_session(engine, write=True) as session:
        try:
            accounts.create_user(
                session,
                handle=args.handle,
                password_hash=Security(settings).hash_password(password),
                role=Role.admin,
            )
        except Conflict:
            print(f"the handle {args.handle!r} is taken", file=sys.stderr)
            return 1
        session.commit()
    print(f"admin {args.handle} created")
    return 0


def _seed_demo(settings: Settings, _args: argparse.Namespace) -> int:
    from api import demo

    try:
        data = demo.load()
        migrate(settings.database_url)
        created = demo.seed(settings, data)
    except (demo.DemoDataError, demo.DemoConflict) as exc:
        print(f"civic-input: demo data not loaded: {exc}", file=sys.stderr)
        return 1
    if not created:
        print("demo data already present")
        return 0
    print(f"demo data loaded: {data.dialogue.title}")
    for kind, count in data.counts().items():
        print(f"  {kind:<22}{count:>4}")
    return 0


def _migrate(settings: Settings, _args: argparse.Namespace) -> int:
    migrate(settings.database_url)
    print("database at the newest migration")
    return 0


def _verify(_settings: Settings, args: argparse.Namespace) -> int:
    from api import verify

    return verify.main(args.url)


def _rotate_key(settings: Settings, _args: argparse.Namespace) -> int:
    from api.db import open_session
    from api.services import signing_keys

    store = signing_keys.store_for(settings)
    with migrated_engine(settings) as engine, open_session(engine, write=True) as session:
        signer = signing_keys.rotate(session, store)
        session.commit()
    print(
        f"checkpoints are now signed with key {signer.kid}, kept in {store.description}; "
        "older keys stay in the JWKS (restart running servers to sign with the new key)"
    )
    return 0


def _migrate_key(settings: Settings, args: argparse.Namespace) -> int:
    from api.db import open_session, truncate_wal
    from api.services import signing_keys

    store: signing_keys.KeyStore = (
        signing_keys.KeyFile(Path(args.to_file))
        if args.to_file
        else signing_keys.store_for(settings)
    )
    with migrated_engine(settings) as engine:
        with open_session(engine, write=True) as session:
            cleared = len(signing_keys.legacy_rows(session))
            signer = signing_keys.adopt_legacy(session, store)
            session.commit()
        truncate_wal(engine)
    if not cleared:
        print("no private key is stored in the database in the clear: nothing to move")
    elif signer is None:
        print(f"cleared {cleared} plain private key(s); {store.description} already holds a key")
    else:
        print(
            f"moved signing key {signer.kid} into {store.description} and cleared "
            f"{cleared} plain private key(s) from the database"
        )
    if args.to_file and settings.signing_key_file != Path(args.to_file):
        print(f"now set CIVIC_SIGNING_KEY_FILE={args.to_file} for serve and rotate-key")
    return 0


def _purge(settings: Settings, _args: argparse.Namespace) -> int:
    from api.services import erasure

    with migrated_engine(settings) as engine:
        purged = erasure.purge(engine, retention_days=settings.removed_retention_days)
    print(
        f"erased the text of {purged.total} submissions: {purged.withdrawn} withdrawn, "
        f"{purged.removed} removed more than {settings.removed_retention_days} days ago"
    )
    return 0


def _release_due(settings: Settings, _args: argparse.Namespace) -> int:
    from api.db import open_session
    from api.services import releases

    with migrated_engine(settings) as engine:
        with open_session(engine, write=True) as session:
            released = releases.release_due(session)
            session.commit()
        with open_session(engine) as session:
            next_at = releases.next_due(session)
    print(f"released {len(released)} held responses")
    if next_at is not None:
        print(f"next release: {next_at.isoformat().replace('+00:00', 'Z')}")
    return 0


def _reindex(settings: Settings, _args: argparse.Namespace) -> int:
    """Rebuild the search index from the public record, in one transaction (searches see
    the old index until it commits), with a progress line."""
    import time

    from api.db import open_session
    from api.search.index import rebuild

    began = time.perf_counter()

    def progress(done: int, total: int) -> None:
        rate = done / max(time.perf_counter() - began, 1e-6)
        print(f"\rindexed {done:,}/{total:,} texts  {rate:,.0f}/s", end="", file=sys.stderr)

    with migrated_engine(settings) as engine, open_session(engine, write=True) as session:
        count = rebuild(session.connection(), progress=progress)
        session.commit()
    print(file=sys.stderr)
    print(f"search index rebuilt: {count} texts in {time.perf_counter() - began:.1f} s")
    return 0


def _positive(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {number}")
    return number


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="civic-input", description=__doc__)
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    serve_help = (
        "apply migrations, then serve the API; on SIGTERM stop accepting, end live "
        "streams and finish the requests in flight (up to 10 s)"
    )
    serve = sub.add_parser("serve", help=serve_help, description=serve_help)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=_positive,
        default=1,
        metavar="N",
        help="serve with N processes on one port (default 1); processes share state "
        "through CIVIC_DATABASE_URL and CIVIC_REDIS_URL",
    )
    serve.set_defaults(run=_serve)
    sub.add_parser("migrate", help="apply every pending migration").set_defaults(run=_migrate)
    admin = sub.add_parser(
        "create-admin", help="create an admin (password from CIVIC_ADMIN_PASSWORD or a prompt)"
    )
    admin.add_argument("--handle", required=True)
    admin.set_defaults(run=_create_admin)
    sub.add_parser("seed-demo", help="load the demo dialogue").set_defaults(run=_seed_demo)
    check = sub.add_parser(
        "verify", help="mirror a server's record log and check its hash chain and signature"
    )
    check.add_argument("url", help="the server's root, e.g. http://127.0.0.1:8000")
    check.set_defaults(run=_verify)
    sub.add_parser(
        "rotate-key",
        help="sign checkpoints with a new key, kept in CIVIC_SIGNING_KEY_FILE or sealed with "
        "CIVIC_SIGNING_KEY_SECRET (old public keys stay published)",
    ).set_defaults(run=_rotate_key)
    move = sub.add_parser(
        "migrate-key",
        help="move a signing key stored in the clear by an older version out of the database "
        "(into CIVIC_SIGNING_KEY_FILE, --to-file, or sealed with CIVIC_SIGNING_KEY_SECRET)",
    )
    move.add_argument("--to-file", metavar="PATH", help="write the key to this file (mode 0600)")
    move.set_defaults(run=_migrate_key)
    sub.add_parser(
        "purge",
        help="erase the text of withdrawn submissions, and of removed ones older than "
        "CIVIC_REMOVED_RETENTION_DAYS",
    ).set_defaults(run=_purge)
    sub.add_parser("reindex", help="rebuild the search index from the public record").set_defaults(
        run=_reindex
    )
    sub.add_parser(
        "release-due",
        help="make public now the held responses whose release instant has come (serve "
        "does this by itself)",
    ).set_defaults(run=_release_due)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    configure_logging()
    try:
        settings = get_settings()
    except InsecureSettings as exc:
        print(f"civic-input: refusing to start: {exc}", file=sys.stderr)
        return 3
    except ValueError as exc:
        print(f"civic-input: bad settings: {exc}", file=sys.stderr)
        return 3
    result: int = args.run(settings, args)
    return result


if __name__ == "__main__":
    sys.exit(main())
