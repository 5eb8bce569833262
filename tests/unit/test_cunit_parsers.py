"""Build and run the host C unit tests of the DHCP, DNS and HTTP parsers and SHA-256
(tests/cunit/test_dhcp.c of user/lib/dhcpwire.c, tests/cunit/test_dns.c of
user/lib/dnswire.c, tests/cunit/test_http.c of user/lib/httpwire.c, tests/cunit/test_sha256.c of
user/lib/sha256.c).

Each is built with the host's gcc, and for the guest's word size (-m32) with
AddressSanitizer and UBSan, which turn a read past a buffer's end into a
failure. A planted bug in each parser shows that its tests can fail.
"""

import shutil
from pathlib import Path

import pytest
from cbuild import OUT_DIR, VARIANTS, gcc, results, run, supported

SUITES = {
    "dhcp": (Path("tests/cunit/test_dhcp.c"), Path("user/lib/dhcpwire.c"), 24),
    "dns": (Path("tests/cunit/test_dns.c"), Path("user/lib/dnswire.c"), 15),
    "http": (Path("tests/cunit/test_http.c"), Path("user/lib/httpwire.c"), 13),
    "sha256": (Path("tests/cunit/test_sha256.c"), Path("user/lib/sha256.c"), 3),
}

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("suite", SUITES)
def test_parser_unit_tests_pass(suite, variant, tmp_path):
    test_src, parser_src, min_tests = SUITES[suite]
    flags = VARIANTS[variant]
    if flags and not supported(flags, tmp_path):
        pytest.skip(f"gcc here cannot build {' '.join(flags)} programs")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    binary = OUT_DIR / f"test_{suite}-{variant}"
    built = gcc(binary, [test_src, parser_src], flags)
    assert built.returncode == 0, built.stderr
    result = run(binary)
    passed, failed, names = results(result.stdout)
    assert (failed, result.returncode) == (0, 0), result.stdout[-3000:] + result.stderr[-3000:]
    assert len(names) >= min_tests and all(status == "ok  " for status, _ in names)
    assert passed > 1000, result.stdout[-500:]   # the truncation and mutation loops ran


# One bug each, of the kind AMNESIA:33 and NAME:WRECK found: a length trusted.
PLANTED = {
    "dhcp": ("""\
// dhcpwire.c with one bug planted: options past the end of the message are
// read as if they were there (the length byte trusted).
#define dhcp_parse dhcp_parse_real
#include "user/lib/dhcpwire.c"
#undef dhcp_parse

int
dhcp_parse(const uchar *p, uint len, struct dhcp_msg *m)
{
  int r = dhcp_parse_real(p, len, m);
  return r == DHCP_ETRUNC ? DHCP_OK : r;
}
""", "FAIL test_option_lengths_past_the_end"),
    "dns": ("""\
// dnswire.c with one bug planted: a reply whose answer runs past the end
// is taken anyway.
#define dns_parse dns_parse_real
#include "user/lib/dnswire.c"
#undef dns_parse

int
dns_parse(const uchar *p, uint len, struct dns_reply *r)
{
  int e = dns_parse_real(p, len, r);
  return e == DNS_ETRUNC ? DNS_OK : e;
}
""", "FAIL test_every_truncation_is_refused"),
    "http": ("""\
// httpwire.c with one bug planted: a path that climbs above the top is
// answered with "/" instead of refused (403).
#define http_normpath http_normpath_real
#include "user/lib/httpwire.c"
#undef http_normpath

int
http_normpath(const char *target, int len, char *out, int outsize)
{
  int st = http_normpath_real(target, len, out, outsize);
  if (st == 403 && outsize > 1) {
    out[0] = '/', out[1] = 0;
    return 0;
  }
  return st;
}
""", "FAIL test_every_climb_above_the_top_is_403"),
    "sha256": ("""\
// sha256.c with one bug planted: the padding's length counts bytes, not bits.
#define sha256_final sha256_final_real
#include "user/lib/sha256.c"
#undef sha256_final

void
sha256_final(struct sha256 *c, uchar digest[32])
{
  c->bytes /= 8;
  sha256_final_real(c, digest);
}
""", "FAIL test_known_digests"),
}


@pytest.mark.parametrize("suite", SUITES)
def test_a_planted_bug_makes_the_parser_tests_fail(suite, tmp_path):
    test_src = SUITES[suite][0]
    source, expected = PLANTED[suite]
    broken = tmp_path / f"broken_{suite}.c"
    broken.write_text(source)
    binary = tmp_path / f"test_{suite}_broken"
    built = gcc(binary, [test_src, broken], [], werror=False)
    assert built.returncode == 0, built.stderr
    result = run(binary)
    assert result.returncode == 1, result.stdout[-2000:]
    passed, failed, _ = results(result.stdout)
    assert failed > 0 and passed > 0
    assert expected in result.stdout
