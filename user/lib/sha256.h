// SHA-256 (FIPS 180-4) as pure functions over a context: sha256sum and
// anything else that checks what arrived. No system calls, so the host
// unit tests (tests/cunit/test_sha256.c) compare it with known digests.
#ifndef XV6NET_SHA256_H
#define XV6NET_SHA256_H
#include "kernel/types.h"

struct sha256 {
  uint h[8];
  uint64 bytes;        // message length so far
  uchar block[64];     // a block not yet full
  uint fill;
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, uint len);
void sha256_final(struct sha256 *c, uchar digest[32]);
// The digest as 64 lowercase hex digits and a NUL.
void sha256_hex(const uchar digest[32], char out[65]);

#endif
