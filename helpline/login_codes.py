"""Console login codes: issue one by SMS, check a guess, limit both (`routing.login` decides).

A challenge lives in Redis under a digest of the number, for `CODE_TTL` and a margin; the
service's clock decides when it expired (the challenge holds its issue time), Redis expiry
only clears it away. Every well-formed number gets a challenge, registered or not, so the
answers and the tries are the same either way (no enumeration); only a registered
person's challenge can succeed, and only they get an SMS.

The code is stored as an argon2id hash (argon2-cffi). A six-digit code has a million
values, so a plain or salted SHA-256 read from Redis gives the code away at once; a keyed
hash would need a secret every web process shares, which the service does not have.
Argon2id makes each guess cost memory and time, so a copy of Redis is not worth more
than the ten minutes the code lives. Hashing runs in a thread, off the event loop; the
limits per number and per client address bound how often that happens.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from redis.exceptions import RedisError

from helpline.bootstrap import Services
from helpline.flood import count_in_window
from rota.model import Organisation, Person
from rota.phones import InvalidPhone, mask_phone, normalise_phone
from routing import login as rules
from routing.access import console_scope
from routing.flood import HOUR, window_at

log = logging.getLogger(__name__)

#: OWASP's minimum for argon2id: 19 MiB, two passes, one lane.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_KEEP = rules.CODE_TTL + timedelta(minutes=1)  # Redis expiry, after the clock's verdict

# Count one try and read the challenge in one step, so concurrent guesses each use one of
# the five; a challenge that expired in between is not brought back by the count.
_TRY = """
if redis.call('EXISTS', KEYS[1]) == 0 then return nil end
local tries = redis.call('HINCRBY', KEYS[1], 'tries', 1)
return {tries, redis.call('HGET', KEYS[1], 'digest'), redis.call('HGET', KEYS[1], 'person'),
        redis.call('HGET', KEYS[1], 'issued')}
"""


class LoginUnavailable(RuntimeError):
    """Redis cannot be asked: no code is issued or checked (login fails closed)."""


def number_key(phone: str) -> str:
    """The challenge's name: a digest, so Redis key listings show no phone number."""
    return hashlib.sha256(phone.encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Issued:
    """A code was asked for a well-formed number: `key` names its challenge."""

    key: str
    masked: str


@dataclass(frozen=True, slots=True)
class Refused:
    """No code issued: a malformed number, or over a limit."""

    reason: Literal["invalid", "limited"]


@dataclass(frozen=True, slots=True)
class LoggedIn:
    person: str


@dataclass(frozen=True, slots=True)
class NotLoggedIn:
    reason: Literal["malformed", "wrong", "expired", "locked", "missing", "limited"]
    tries_left: int = 0


class LoginCodes:
    """Issues and checks login codes for one running service."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._redis = services.redis
        self._settings = services.settings

    async def request(self, text: str, client: str | None) -> Issued | Refused:
        """A code for the number typed, by SMS if a person may log in with it."""
        try:
            phone = normalise_phone(text)
        except InvalidPhone:
            return Refused("invalid")
        if await self._over("login:ip", client or "-", self._settings.login_per_ip):
            return Refused("limited")
        key = number_key(phone)
        if await self._over("login:number", key, self._settings.login_per_number):
            log.warning("console login: codes for one number over the hourly limit")
            return Refused("limited")
        loaded = await self._services.organisation()
        person = _person(loaded.org if loaded else None, phone)
        code = f"{secrets.randbelow(10**rules.CODE_DIGITS):0{rules.CODE_DIGITS}d}"
        digest = await asyncio.to_thread(_HASHER.hash, code)
        now = self._services.clock()
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.delete(_challenge(key))
                pipe.hset(
                    _challenge(key),
                    mapping={
                        "digest": digest,
                        "person": person.id if person else "",
                        "issued": now.isoformat(),
                        "tries": 0,
                    },
                )
                pipe.expire(_challenge(key), int(_KEEP.total_seconds()))
                await pipe.execute()
        except (RedisError, OSError) as error:
            raise LoginUnavailable(type(error).__name__) from error
        if person is None:
            log.info("console login: a code asked for a number that logs in no one")
        else:
            await self._send(person, code, loaded.org if loaded else None)
        return Issued(key, mask_phone(phone))

    async def check(self, key: str, text: str, client: str | None) -> LoggedIn | NotLoggedIn:
        """Check a guess at the code of challenge `key`; a right one is used up."""
        code = rules.well_formed_code(text)
        if code is None:
            return NotLoggedIn("malformed")
        if await self._over("login:ip", client or "-", self._settings.login_per_ip):
            return NotLoggedIn("limited")
        try:
            found = await self._redis.eval(_TRY, 1, _challenge(key))
        except (RedisError, OSError) as error:
            raise LoginUnavailable(type(error).__name__) from error
        now = self._services.clock()
        challenge, tries = _challenge_of(found)
        refusal = rules.before_try(challenge, tries, now)
        if refusal is not None or challenge is None:
            if refusal in ("expired", "locked"):
                await self._forget(key)
            return NotLoggedIn(refusal or "missing")
        matched = False
        if challenge.person:  # an unregistered number's challenge logs in no one
            matched = await asyncio.to_thread(_matches, challenge.digest, code)
        if matched:
            if await self._forget(key):  # of two right guesses at once, one logs in
                return LoggedIn(challenge.person)
            return NotLoggedIn("missing")
        verdict = rules.after_wrong(tries)
        if verdict == "locked":
            await self._forget(key)
        log.info("console login: a wrong code (%d of %d tries)", tries, rules.MAX_TRIES)
        return NotLoggedIn(verdict, rules.tries_left(tries))

    async def _over(self, name: str, who: str, cap: int) -> bool:
        window = window_at(self._services.clock(), HOUR)
        try:
            return await count_in_window(self._redis, f"{name}:{who}", window) > cap
        except (RedisError, OSError) as error:
            raise LoginUnavailable(type(error).__name__) from error

    async def _forget(self, key: str) -> bool:
        try:
            return bool(await self._redis.delete(_challenge(key)))
        except (RedisError, OSError) as error:
            raise LoginUnavailable(type(error).__name__) from error

    async def _send(self, person: Person, code: str, org: Organisation | None) -> None:
        """The code by SMS on the help lane, at once (sandbox: into the outbox)."""
        outbox = self._services.outbox
        async with self._services.sessions() as session, session.begin():
            row = outbox.queue(
                session,
                channel="sms",
                to=person.phone,
                sender=_sender(org, person),
                body=rules.code_text(code),
                contact_id=None,
                kind="login",
            )
        await outbox.deliver([row.id])


def _challenge(key: str) -> str:
    return f"login:code:{key}"


def _person(org: Organisation | None, phone: str) -> Person | None:
    """The person this number logs in, if they may use the console."""
    if org is None:
        return None
    person = rules.login_person(org, phone)
    if person is None or console_scope(org, person.id) is None:
        return None
    return person


def _sender(org: Organisation | None, person: Person) -> str:
    """From a helpline number of the person's own kommuner, else the first there is."""
    if org is None:
        return ""
    teams = {t.id: t for t in org.teams}
    own = {k for team in person.teams if team in teams for k in teams[team].kommuner}
    own |= {k for a in org.access if a.person == person.id for k in a.kommuner}
    numbers = [n for k in org.kommuner if k.id in own for n in k.numbers]
    numbers += [n for k in org.kommuner for n in k.numbers]
    return numbers[0] if numbers else (org.helpline.network_number or "")


def _challenge_of(found: object) -> tuple[rules.Challenge | None, int]:
    if not isinstance(found, list) or len(found) != 4:
        return None, 0
    tries, digest, person, issued = found
    try:
        issued_at = datetime.fromisoformat(_text(issued))
    except ValueError:
        return None, 0
    return rules.Challenge(_text(digest), _text(person), issued_at), int(tries)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _matches(digest: str, code: str) -> bool:
    try:
        return _HASHER.verify(digest, code)
    except (VerificationError, InvalidHashError):
        return False
