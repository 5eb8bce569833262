"""xv6net.prof: parsing kprof dumps and attributing samples to functions."""

from xv6net import prof

NM = """\
80100000 T entry
80100010 t helper
80100100 T trap
80100200 T popcli
80100300 D somedata
80100400 T netrx
"""

DUMP = """\
$ kprof dump
k 2 80100210 80100405 0 0 0
k 2 80100210 80100105 80100405 0 0
k 5 80100110 0 0 0 0
u 7 1234
garbage line
kprof: 4 samples
"""


def symbols() -> prof.Symbols:
    return prof.Symbols.from_nm(NM)


def test_parse_reads_kernel_and_user_samples():
    samples = prof.parse(DUMP)
    assert len(samples) == 4
    assert samples[0] == prof.Sample(False, 2, 0x80100210, (0x80100405,))
    assert samples[2].callers == ()
    assert samples[3] == prof.Sample(True, 7, 0x1234, ())


def test_symbols_resolve_to_the_enclosing_text_symbol():
    sy = symbols()
    assert sy.name(0x80100000) == "entry"
    assert sy.name(0x80100015) == "helper"
    assert sy.name(0x80100350) == "popcli"      # data symbols are not functions
    assert sy.name(0x100) == prof.UNKNOWN


def test_attribute_counts_self_and_inclusive_once_per_sample():
    p = prof.attribute(prof.parse(DUMP), symbols())
    rows = {r.function: r for r in p.rows}
    assert (p.samples, p.kernel, p.user) == (4, 3, 1)
    assert rows["popcli"].self_samples == 2
    assert rows["netrx"].self_samples == 0 and rows["netrx"].inclusive_samples == 2
    assert rows["trap"].self_samples == 1 and rows["trap"].inclusive_samples == 2
    assert rows[prof.USER].self_samples == 1
    assert p.rows[0].function == "popcli"


def test_recursion_counts_a_function_once():
    dump = "k 1 80100110 80100105 80100105 80100105 0\n"
    p = prof.attribute(prof.parse(dump), symbols())
    assert {r.function: r.inclusive_samples for r in p.rows}["trap"] == 1


def test_table_and_json_give_shares():
    p = prof.attribute(prof.parse(DUMP), symbols())
    text = prof.table(p)
    assert "4 samples: kernel 75.0%, user 25.0%" in text
    assert " 50.0%   50.0%  popcli" in text
    data = p.to_json()
    assert data["samples"] == 4
    assert data["functions"][0] == {"function": "popcli", "self": 0.5, "inclusive": 0.5}


def test_empty_profile():
    p = prof.attribute([], symbols())
    assert p.samples == 0 and p.rows == ()
    assert p.share(0) == 0.0
