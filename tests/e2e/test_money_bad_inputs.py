"""A corpus of bad inputs: each is exit 2, one line on stderr naming the field, nothing on stdout, no
traceback, no request in the served emulator's log and no journal row."""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.support import journal_entries, momo

pytestmark = [pytest.mark.served, pytest.mark.usefixtures("fast")]

T = ("disburse", "transfer", "--yes", "--payee", "46733123999")  # needs --amount
TA = (*T, "--amount", "10")
R = ("collect", "request", "--yes", "--amount", "10")  # needs --payer
RA = (*R, "--payer", "46733123999")
C = ("remit", "cash-transfer", "--yes", "--amount", "10", "--payee", "46733123999")
REF = str(uuid.uuid4())

#: (label, argv, a word the one line must contain)
CORPUS = [
    # amounts
    ("amount zero", (*T, "--amount", "0"), "--amount"),
    ("amount zero decimals", (*T, "--amount", "0.00"), "--amount"),
    ("amount negative", (*T, "--amount", "-5"), "--amount"),
    ("amount plus sign", (*T, "--amount", "+5"), "--amount"),
    ("amount exponent", (*T, "--amount", "1e3"), "--amount"),
    ("amount upper exponent", (*T, "--amount", "1E3"), "--amount"),
    ("amount too many decimals", (*T, "--amount", "12.345"), "--amount"),
    ("amount words", (*T, "--amount", "ten"), "--amount"),
    ("amount empty", (*T, "--amount", ""), "--amount"),
    ("amount blank", (*T, "--amount", "  "), "--amount"),
    ("amount thousands separator", (*T, "--amount", "1,000"), "--amount"),
    ("amount underscore", (*T, "--amount", "1_000"), "--amount"),
    ("amount trailing dot", (*T, "--amount", "12."), "--amount"),
    ("amount leading dot", (*T, "--amount", ".5"), "--amount"),
    ("amount nan", (*T, "--amount", "NaN"), "--amount"),
    ("amount infinity", (*T, "--amount", "Infinity"), "--amount"),
    ("amount hex", (*T, "--amount", "0x10"), "--amount"),
    ("amount too large", (*T, "--amount", "99999999999999"), "--amount"),
    ("amount missing", T, "--amount"),
    # currencies
    ("currency not the sandbox's", (*TA, "--currency", "USD"), "--currency"),
    ("currency of another environment", (*TA, "--currency", "UGX"), "--currency"),
    ("currency two letters", (*TA, "--currency", "EU"), "--currency"),
    ("currency four letters", (*TA, "--currency", "EURO"), "--currency"),
    ("currency digits", (*TA, "--currency", "978"), "--currency"),
    ("currency unknown", (*TA, "--currency", "XYZ"), "--currency"),
    # parties
    ("msisdn too short", (*R, "--payer", "1234567"), "--payer"),
    ("msisdn too long", (*R, "--payer", "4673312345012345"), "--payer"),
    ("msisdn letters", (*R, "--payer", "46733abc450"), "--payer"),
    ("msisdn empty", (*R, "--payer", ""), "--payer"),
    ("msisdn only plus", (*R, "--payer", "+"), "--payer"),
    ("payer missing", R, "--payer"),
    ("email without at", (*R, "--payer", "someone.example.com", "--payer-type", "email"), "--payer"),
    ("party code not a uuid", (*R, "--payer", "abc", "--payer-type", "party_code"), "--payer"),
    ("party type unknown", (*R, "--payer", "46733123999", "--payer-type", "phone"), "--payer-type"),
    ("payee msisdn letters", (*TA[:-4], "--amount", "1", "--payee", "not-a-number"), "--payee"),
    # messages and notes
    ("message too long", (*RA, "--payer-message", "x" * 161), "--payer-message"),
    ("message apostrophe", (*RA, "--payer-message", "it's"), "--payer-message"),
    ("message ampersand", (*RA, "--payer-message", "fish & chips"), "--payer-message"),
    ("message angle brackets", (*RA, "--payer-message", "<b>hi</b>"), "--payer-message"),
    ("message quote", (*RA, "--payer-message", 'say "hi"'), "--payer-message"),
    ("message control character", (*RA, "--payer-message", "tab\there"), "--payer-message"),
    ("note newline", (*RA, "--payee-note", "two\nlines"), "--payee-note"),
    ("note backslash", (*RA, "--payee-note", "a\\b"), "--payee-note"),
    ("note too long", (*RA, "--payee-note", "é" * 161), "--payee-note"),
    # ids
    ("external id too long", (*TA, "--external-id", "x" * 65), "--external-id"),
    ("external id ampersand", (*TA, "--external-id", "a&b"), "--external-id"),
    ("external id blank", (*TA, "--external-id", "   "), "--external-id"),
    ("reference id not a uuid", (*TA, "--reference-id", "123"), "--reference-id"),
    ("reference id uuid1", (*TA, "--reference-id", str(uuid.uuid1())), "--reference-id"),
    ("reference id bad variant", (*TA, "--reference-id", "3f2a9c1e-77b0-4c1d-0a0e-2f7c1b9d8e11"), "--reference-id"),
    ("refund of nothing", ("disburse", "refund", "--yes", "--amount", "1", "--refund", "abc"), "--refund"),
    ("refund test id out of range", ("disburse", "refund", "--yes", "--amount", "1", "--refund", "14"), "--refund"),
    ("refund missing", ("disburse", "refund", "--yes", "--amount", "1"), "--refund"),
    # callback URLs
    ("callback ftp", (*TA, "--callback-url", "ftp://127.0.0.1/cb"), "--callback-url"),
    ("callback not a url", (*TA, "--callback-url", "not a url"), "--callback-url"),
    ("callback no host", (*TA, "--callback-url", "http://"), "--callback-url"),
    ("callback other host", (*TA, "--callback-url", "https://example.com/momo"), "providerCallbackHost"),
    ("callback with a password", (*TA, "--callback-url", "http://user:pw@127.0.0.1/cb"), "--callback-url"),
    ("callback bad port", (*TA, "--callback-url", "http://127.0.0.1:99999/cb"), "--callback-url"),
    ("callback port 0", (*TA, "--callback-url", "http://127.0.0.1:0/cb"), "--callback-url"),
    ("callback host with a trailing dot", (*TA, "--callback-url", "http://127.0.0.1./cb"), "providerCallbackHost"),
    ("callback too long", (*TA, "--callback-url", "http://127.0.0.1/" + "a" * 2000), "--callback-url"),
    # cash transfer fields
    ("country three letters", (*C, "--originating-country", "SWE"), "--originating-country"),
    ("original amount exponent", (*C, "--original-amount", "1e3"), "--original-amount"),
    ("original currency words", (*C, "--original-currency", "dollars"), "--original-currency"),
    ("language words", (*C, "--payer-language", "english"), "--payer-language"),
    ("payer email", (*C, "--payer-email", "nobody"), "--payer-email"),
    ("payer msisdn", (*C, "--payer-msisdn", "12"), "--payer-msisdn"),
    ("payer id type", (*C, "--payer-id-type", "XX"), "--payer-id-type"),
    ("payer name apostrophe", (*C, "--payer-surname", "O'Brien"), "--payer-surname"),
    # options
    ("timeout zero", (*TA, "--wait", "--timeout", "0"), "--timeout"),
    ("timeout negative", (*TA, "--wait", "--timeout", "-1"), "--timeout"),
    ("timeout words", (*TA, "--wait", "--timeout", "soon"), "--timeout"),
    ("interval zero", (*TA, "--wait", "--interval", "0"), "--interval"),
    ("json and quiet", (*TA, "--json", "-q"), "--json"),
    ("listen without wait", (*TA, "--listen", "0"), "--listen"),
    ("listen port out of range", (*TA, "--wait", "--listen", "70000"), "--listen"),
    ("unknown option", (*TA, "--frobnicate"), "--frobnicate"),
    ("stray argument", (*TA, "extra"), "extra"),
    ("no confirmation without a terminal", ("disburse", "transfer", "--amount", "1", "--payee", "46733123999"),
     "--yes"),
    # other commands
    ("status bad reference id", ("status", "abc"), "REFERENCE_ID"),
    ("status bad operation", ("status", REF, "--product", "collection", "--operation", "pay"), "--operation"),
    ("status bad product", ("status", REF, "--product", "savings"), "--product"),
    ("status unknown id without product", ("status", REF), "--product"),
    ("notify bad reference id", ("collect", "notify", "abc", "--message", "hi"), "REFERENCE_ID"),
    ("notify ampersand", ("collect", "notify", REF, "--message", "a & b"), "--message"),
    ("notify not ascii", ("collect", "notify", REF, "--message", "merci à vous"), "--message"),
    ("notify empty", ("collect", "notify", REF, "--message", " "), "--message"),
    ("account bad msisdn", ("account", "active", "12"), "ID"),
    ("account bad id type", ("account", "active", "46733123999", "--id-type", "phone"), "--id-type"),
    ("account info bad email", ("account", "info", "nobody", "--id-type", "email"), "ID"),
    ("balance bad currency", ("balance", "--currency", "eu"), "--currency"),
    ("balance bad product", ("balance", "--product", "savings"), "--product"),
    ("journal since words", ("journal", "list", "--since", "yesterday"), "--since"),
    ("journal bad state", ("journal", "list", "--state", "lost"), "--state"),
    ("journal show bad id", ("journal", "show", "abc"), "REFERENCE_ID"),
]


def test_the_corpus_is_big_enough():
    assert len(CORPUS) >= 40
    assert len({label for label, _, _ in CORPUS}) == len(CORPUS)


@pytest.fixture(scope="module")
def served(module_served_emulator):
    return module_served_emulator("--quiet")


def _api_requests(served) -> list[dict]:
    return [r for r in served.requests() if not r["path"].startswith("/_sandbox")]


@pytest.mark.parametrize("label, argv, word", CORPUS, ids=[label for label, _, _ in CORPUS])
def test_a_bad_input_is_exit_2_one_line_and_nothing_sent(served, label, argv, word):
    before = _api_requests(served)
    run = momo(*argv, base_url=served.url)
    assert run.exit_code == 2, (run.exit_code, run.stderr)
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("momo: error: ") and word in lines[0], lines[0]
    assert "Traceback" not in run.stderr
    assert not isinstance(run.exception, Exception) or isinstance(run.exception, SystemExit)
    assert _api_requests(served) == before
    assert journal_entries() == []


def test_bad_inputs_on_the_local_emulator_journal_nothing():
    for _, argv, _ in CORPUS[:20]:
        run = momo(*argv)
        assert run.exit_code == 2 and len(run.stderr.splitlines()) == 1
    assert journal_entries() == []
