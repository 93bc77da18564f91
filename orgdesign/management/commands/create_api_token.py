"""manage.py create_api_token USER: a token for an integration, shown once."""

import datetime

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from knox.models import AuthToken

from orgdesign.models import ApiTokenInfo, token_create


class Command(BaseCommand):
    help = (
        "Create an API token for USER and print it once (only a digest is stored). Tokens "
        "read only unless --write is given. --list shows USER's tokens; --revoke PREFIX and "
        "--revoke-all delete them."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--write", action="store_true", help="Allow the token to change data.")
        parser.add_argument("--name", default="", help="What the token is for.")
        parser.add_argument(
            "--expires-days", type=int, default=None, help="Days until it stops working."
        )
        parser.add_argument("--list", action="store_true", help="List USER's tokens.")
        parser.add_argument("--revoke", metavar="PREFIX", help="Delete the token starting so.")
        parser.add_argument("--revoke-all", action="store_true", help="Delete all USER's tokens.")

    def handle(self, *args, username, write, name, expires_days, list, revoke, revoke_all,
               **options):  # fmt: skip
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user called {username!r}.")
        tokens = AuthToken.objects.filter(user=user).select_related("info").order_by("-created")
        if list:
            return self.list_tokens(tokens)
        if revoke_all:
            count = tokens.count()
            tokens.delete()
            self.stdout.write(f"Revoked {count} token(s) of {username}.")
            return
        if revoke:
            matches = tokens.filter(token_key__startswith=revoke)
            if matches.count() != 1:
                found = "no token" if not matches.exists() else "several tokens"
                raise CommandError(f"{found} of {username} start(s) with {revoke!r}; see --list.")
            matches.delete()
            self.stdout.write(f"Revoked the token {revoke}… of {username}.")
            return
        if not user.is_active:
            raise CommandError(f"{username} is inactive; a token would not work.")
        if expires_days is not None and expires_days < 1:
            raise CommandError("--expires-days must be 1 or more.")
        expiry = datetime.timedelta(days=expires_days) if expires_days else None
        info, key = token_create(user=user, name=name, can_write=write, expiry=expiry)
        token = info.token
        until = token.expiry.strftime("%Y-%m-%d %H:%M %Z") if token.expiry else "no expiry"
        self.stdout.write(key)
        self.stderr.write(
            f"Token {token.token_key}… for {username}: {info.scope_display}, {until}. "
            "Keep the key now: it is not stored and cannot be shown again."
        )

    def list_tokens(self, tokens) -> None:
        if not tokens.exists():
            self.stdout.write("No tokens.")
        for token in tokens:
            info = getattr(token, "info", None) or ApiTokenInfo(token=token)
            until = token.expiry.strftime("%Y-%m-%d") if token.expiry else "no expiry"
            used = info.last_used_at.strftime("%Y-%m-%d %H:%M") if info.last_used_at else "never"
            self.stdout.write(
                f"{token.token_key}…  {info.name or '-':20}  {info.scope_display:14}  "
                f"created {token.created:%Y-%m-%d}  {until}  last used {used}"
            )
