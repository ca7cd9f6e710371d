"""Varied copies of the Enron mails, as search documents, for benchmarks/search.py.

Document ``i`` is mail ``i % M`` of the M mails in the archive, copy ``i // M``. Copy 0
is the mail as it is; every later copy is changed with a random generator seeded by
the run's seed and ``i`` (so a document is the same in every run and in any process):

- the people of the mail (the name parts of its From/To/Cc headers and addresses)
  become other people, drawn from FIRST_NAMES and LAST_NAMES, in headers and body;
- half the lines of the body (and a third of the subjects) have their words put in
  another order, so phrases survive only in the other half;
- the numbers of half the lines get other digits of the same length;
- the date moves by up to four years either way;
- most copies stay e-mails; some become plain text or PDF pages (no sender), a few
  have no language, so the type and language facets have more than one value.

Selectors: every e-mail carries its sender's and first recipients' addresses; 30% of
the documents a phone number and 10% an IBAN drawn from pools with a skewed
distribution (the first values of a pool are common, the last ones rare).
"""

from __future__ import annotations

import email
import random
import re
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses, parsedate_to_datetime
from math import gcd
from pathlib import Path
from typing import Any

from caselens.search.document import SearchDocument, build_document
from caselens.search.tokens import tokenize

_FIRST = (
    "james mary robert patricia john jennifer michael linda david elizabeth william "
    "barbara richard susan joseph jessica thomas sarah charles karen christopher lisa "
    "daniel nancy matthew betty anthony sandra mark margaret donald ashley steven "
    "kimberly andrew emily paul donna joshua michelle kenneth carol kevin amanda brian "
    "melissa george deborah timothy stephanie ronald dorothy jason rebecca edward sharon "
    "jeffrey laura ryan cynthia jacob amy gary kathleen nicholas angela eric shirley "
    "jonathan brenda stephen emma larry anna justin pamela scott nicole brandon samantha "
    "benjamin katherine samuel christine gregory helen alexander debra patrick rachel "
    "frank carolyn raymond janet jack maria dennis catherine jerry heather tyler diane "
    "aaron olivia jose julie adam joyce nathan victoria henry ruth zachary virginia "
    "douglas lauren peter kelly kyle christina noah joan ethan evelyn jeremy judith "
    "walter andrea christian hannah keith megan roger cheryl terry jacqueline austin "
    "martha sean madison gerald teresa carl kathryn harold gloria dylan sara arthur "
    "janice lawrence ann jordan kathryn jesse abigail bryan sophia ingrid olaf sven "
    "astrid pieter annelies dmitri svetlana giorgio francesca rajesh priya"
)
_LAST = (
    "smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez "
    "lopez gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson "
    "white harris sanchez clark ramirez lewis robinson walker young king wright scott "
    "torres nguyen hill flores green adams nelson baker hall rivera campbell mitchell "
    "carter roberts gomez phillips evans turner diaz parker cruz edwards collins reyes "
    "stewart morris morales murphy cook rogers gutierrez ortiz morgan cooper peterson "
    "bailey reed kelly howard ramos kim cox ward richardson watson brooks chavez wood "
    "james bennett gray mendoza ruiz hughes price alvarez castillo sanders patel myers "
    "long ross foster jimenez powell jenkins perry russell sullivan bell coleman butler "
    "henderson barnes gonzales fisher vasquez simmons romero jordan patterson alexander "
    "hamilton graham reynolds griffin wallace moreno west cole hayes bryant herrera "
    "gibson ellis tran medina aguilar stevens murray ford castro marshall owens harrison "
    "fernandez mcdonald woods washington kennedy wells vargas henry chen freeman webb "
    "tucker guzman burns crawford olson simpson porter hunter gordon mendez silva shaw "
    "snyder mason dixon munoz hunt hicks holmes palmer wagner black robertson boyd rose "
    "stone salazar fox warren mills meyer rice schmidt garza daniels ferguson nichols "
    "stephens soto weaver ryan gardner payne grant dunn kelley spencer hawkins arnold "
    "pierce vansant lindqvist okafor kowalski novak horvath dubois rossi muller jansen "
    "petrov yamamoto"
)
FIRST_NAMES = _FIRST.split()
LAST_NAMES = _LAST.split()

PHONE_POOL = 20_000
IBAN_POOL = 2_000
PHONE_SHARE = 0.3
IBAN_SHARE = 0.1
MAX_RECIPIENT_SELECTORS = 4
MAX_SHIFT_DAYS = 4 * 365

_WORDY = re.compile(r"[A-Za-z]+")
_ANGLED = re.compile(r"<[^>]*>")


@dataclass(frozen=True, slots=True)
class Mail:
    subject: str
    sender: str  # "Name <address>"
    recipients: tuple[str, ...]  # "Name <address>", To then Cc
    date: datetime | None
    # The body as caselens tokens, line by line: copies are varied on tokens, which is
    # what the index holds, so a copy costs far less than editing and re-reading text.
    lines: tuple[tuple[str, ...], ...]
    names: frozenset[str]  # lower-case name parts of the people in the headers


def read_mails(archive: Path) -> list[Mail]:
    """Every message of the maildir archive, in archive order."""
    mails = []
    with tarfile.open(archive) as tar:
        for member in tar:
            handle = tar.extractfile(member) if member.isfile() else None
            if handle is None or member.name.endswith(".csv"):
                continue
            mails.append(parse_mail(handle.read()))
    return mails


def parse_mail(raw: bytes) -> Mail:
    message = email.message_from_bytes(raw)
    sender = _people(message.get_all("From", []), message.get_all("X-From", []))
    recipients = _people(
        [*message.get_all("To", []), *message.get_all("Cc", [])],
        [*message.get_all("X-To", []), *message.get_all("X-cc", [])],
    )
    payload = message.get_payload(decode=True) if not message.is_multipart() else b""
    body = payload.decode("latin-1") if isinstance(payload, bytes) else ""
    try:
        date = parsedate_to_datetime(str(message.get("Date", ""))).astimezone(UTC)
    except (TypeError, ValueError):
        date = None
    names: set[str] = set()
    for person in [*sender, *recipients]:
        shown, _, address = person.rpartition("<")
        for word in _WORDY.findall(f"{shown} {address.split('@')[0]}".lower()):
            if len(word) > 2:
                names.add(word)
    lines = tuple(tuple(tokenize(line)) for line in body.split("\n"))
    return Mail(
        subject=str(message.get("Subject", "")),
        sender=sender[0] if sender else "",
        recipients=tuple(recipients),
        date=date,
        lines=tuple(line for line in lines if line),
        names=frozenset(names),
    )


def _people(addresses: list[Any], display: list[Any]) -> list[str]:
    pairs = getaddresses([str(a) for a in addresses])
    shown = [name.strip() for name in ",".join(str(d) for d in display).split(",")]
    people = []
    for index, (_, address) in enumerate(pairs):
        if not address:
            continue
        name = _ANGLED.sub("", shown[index]).strip() if index < len(shown) else ""
        people.append(f"{name} <{address}>" if name else address)
    return people


def phone_pool(seed: int) -> list[str]:
    rng = random.Random(f"phones-{seed}")
    found: dict[str, None] = {}
    while len(found) < PHONE_POOL:
        area = rng.choice(("713", "281", "832", "212", "415", "503", "312"))
        found[f"+1{area}{rng.randint(2, 9)}{rng.randint(0, 999_999):06d}"] = None
    return list(found)


def iban_pool(seed: int) -> list[str]:
    rng = random.Random(f"ibans-{seed}")
    found: dict[str, None] = {}
    while len(found) < IBAN_POOL:
        if rng.random() < 0.5:
            bban = (
                rng.choice(("NWBK", "BARC", "MIDL", "LOYD")) + f"{rng.randint(0, 10**14 - 1):014d}"
            )
            country = "GB"
        else:
            bban = f"{rng.randint(0, 10**18 - 1):018d}"
            country = "DE"
        found[_with_check_digits(country, bban)] = None
    return list(found)


def _with_check_digits(country: str, bban: str) -> str:
    digits = "".join(str(int(char, 36)) for char in bban + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


def skewed(rng: random.Random, size: int) -> int:
    """An index into a pool: 0 is the most likely, ``size - 1`` the least (P(<k) = (k/size)^⅓)."""
    return min(size - 1, int(size * rng.random() ** 3))


class Varier:
    """Turns document numbers into search documents (one per process)."""

    def __init__(self, mails: list[Mail], seed: int, case_id: str) -> None:
        self.mails = mails
        self.seed = seed
        self.case_id = case_id
        self.phones = phone_pool(seed)
        self.ibans = iban_pool(seed)

    def document(self, number: int) -> SearchDocument:
        copy, mail_index = divmod(number, len(self.mails))
        mail = self.mails[mail_index]
        rng = random.Random(self.seed * 1_000_003 + number)
        subject, sender, recipients, date = mail.subject, mail.sender, mail.recipients, mail.date
        if copy:
            # Each name part becomes a first or a last name, at random.
            mapping = {
                name: rng.choice(FIRST_NAMES if rng.random() < 0.5 else LAST_NAMES)
                for name in sorted(mail.names)
            }
            subject = _swap(" ".join(_scramble(subject.split(), rng, 0.33)), mapping)
            sender = _swap(sender, mapping)
            recipients = tuple(_swap(person, mapping) for person in recipients)
            body = "\n".join(_vary_line(line, mapping, rng) for line in mail.lines)
            if date is not None:
                date += timedelta(days=rng.randint(-MAX_SHIFT_DAYS, MAX_SHIFT_DAYS))
        else:
            body = "\n".join(" ".join(line) for line in mail.lines)
        shape = rng.random() if copy else 0.0
        schema = "Email" if shape < 0.85 else ("PlainText" if shape < 0.95 else "Pages")
        properties: dict[str, list[str]] = {}
        pages = {1: body}
        if schema == "Email":
            properties = {"subject": [subject], "from": [sender], "to": list(recipients)}
        else:
            properties = {"fileName": [f"{subject[:60] or 'untitled'}.txt"]}
            if schema == "Pages":
                half = body.find("\n", len(body) // 2)
                pages = {1: body[:half], 2: body[half:]} if half > 0 else pages
        if date is not None:
            properties["date"] = [date.strftime("%Y-%m-%dT%H:%M:%S")]
        if rng.random() < 0.95:
            properties["language"] = ["eng"]
        selectors: set[tuple[str, str]] = set()
        if schema == "Email":
            for person in [sender, *recipients[:MAX_RECIPIENT_SELECTORS]]:
                address = person.rsplit("<", 1)[-1].rstrip(">").strip().lower()
                if "@" in address:
                    selectors.add(("email", address))
        if rng.random() < PHONE_SHARE:
            selectors.add(("phone", self.phones[skewed(rng, len(self.phones))]))
        if rng.random() < IBAN_SHARE:
            selectors.add(("iban", self.ibans[skewed(rng, len(self.ibans))]))
        entity = {"schema": schema, "properties": properties}
        return build_document(self.case_id, f"b{number:011d}", 1, entity, pages, selectors)


def _swap(text: str, mapping: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        word = match.group()
        found = mapping.get(word.lower())
        if found is None:
            return word
        return (
            found.upper() if word.isupper() else found.capitalize() if word[0].isupper() else found
        )

    return _WORDY.sub(replace, text)


def _scramble(words: list[str] | tuple[str, ...], rng: random.Random, share: float) -> list[str]:
    """The words in another order (with probability ``share``): an affine permutation,
    one random draw per line instead of one per word."""
    count = len(words)
    if count < 2 or rng.random() >= share:
        return list(words)
    step = rng.randrange(1, count)
    while gcd(step, count) != 1:
        step -= 1
    offset = rng.randrange(count)
    return [words[(offset + step * index) % count] for index in range(count)]


def _vary_line(line: tuple[str, ...], mapping: dict[str, str], rng: random.Random) -> str:
    words = _scramble(line, rng, 0.5)
    if rng.random() < 0.5:  # half the lines get other numbers
        words = [_other_number(word, rng) if word.isdigit() else word for word in words]
    return " ".join([mapping.get(word, word) for word in words])


def _other_number(word: str, rng: random.Random) -> str:
    return str(rng.randrange(10 ** len(word))).zfill(len(word)) if len(word) < 19 else word
