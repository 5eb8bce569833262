// Host-compiled unit tests for user/lib/sha256.c: FIPS 180-4's examples,
// a million 'a's, and every length around the padding's block edge fed in
// pieces of every size, against digests made in one piece.
//
//   gcc -Wall -Werror -I. -o build/cunit/test_sha256 tests/cunit/test_sha256.c user/lib/sha256.c
//   build/cunit/test_sha256          # "N passed, M failed"; exit status 1 on failure

#include "tests/cunit/cunit.h"
#include "kernel/types.h"
#include "user/lib/sha256.h"

static void
digest_of(const void *p, uint n, char hex[65])
{
  struct sha256 c;
  uchar d[32];
  uchar *copy = exact(p, n);   // AddressSanitizer sees any read past its end
  sha256_init(&c);
  sha256_update(&c, copy, n);
  sha256_final(&c, d);
  sha256_hex(d, hex);
  free(copy);
}

static void
test_known_digests()
{
  char hex[65];
  digest_of("", 0, hex);
  CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  digest_of("abc", 3, hex);
  CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  digest_of(two, strlen(two), hex);
  CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void
test_a_million_as()
{
  struct sha256 c;
  uchar d[32], chunk[1000];
  char hex[65];
  memset(chunk, 'a', sizeof chunk);
  sha256_init(&c);
  for (int i = 0; i < 1000; i++)
    sha256_update(&c, chunk, sizeof chunk);
  CHECK_EQ(c.bytes, 1000000);
  sha256_final(&c, d);
  sha256_hex(d, hex);
  CHECK(hex[64] == 0);
  CHECK_STR(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// Pieces of every size give the digest of the whole, at every length that
// puts the padding on either side of a block edge.
static void
test_pieces_agree_with_the_whole()
{
  uchar msg[200];
  for (uint i = 0; i < sizeof msg; i++)
    msg[i] = i * 7 + 3;
  for (uint len = 50; len < 140; len++) {
    char whole[65], pieces[65];
    digest_of(msg, len, whole);
    for (uint piece = 1; piece <= 70; piece += 3) {
      struct sha256 c;
      uchar d[32];
      sha256_init(&c);
      for (uint off = 0; off < len; off += piece)
        sha256_update(&c, msg + off, off + piece <= len ? piece : len - off);
      sha256_final(&c, d);
      sha256_hex(d, pieces);
      CHECK_STR(pieces, whole);
    }
  }
}

TESTS(
  T(test_known_digests),
  T(test_a_million_as),
  T(test_pieces_agree_with_the_whole),
)
