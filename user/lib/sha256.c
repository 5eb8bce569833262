// SHA-256 (FIPS 180-4, section 6.2): eight 32-bit words of state, 64
// rounds per 64-byte block, the message padded with 0x80, zeros and its
// bit length as a big-endian 64-bit number.
#include "kernel/types.h"
#include "user/lib/sha256.h"

// The first 32 bits of the fractional parts of the cube roots of the
// first 64 primes (FIPS 180-4 4.2.2).
static const uint K[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint
ror(uint x, int n)
{
  return x >> n | x << (32 - n);
}

static void
compress(uint h[8], const uchar *p)
{
  uint w[64], v[8];
  for (int i = 0; i < 16; i++)
    w[i] = (uint)p[4 * i] << 24 | (uint)p[4 * i + 1] << 16 | (uint)p[4 * i + 2] << 8 | p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  for (int i = 0; i < 8; i++)
    v[i] = h[i];
  for (int i = 0; i < 64; i++) {
    uint e = v[4], a = v[0];
    uint t1 = v[7] + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & v[5]) ^ (~e & v[6])) + K[i] + w[i];
    uint t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & v[1]) ^ (a & v[2]) ^ (v[1] & v[2]));
    for (int j = 7; j > 0; j--)
      v[j] = v[j - 1];
    v[4] += t1;
    v[0] = t1 + t2;
  }
  for (int i = 0; i < 8; i++)
    h[i] += v[i];
}

void
sha256_init(struct sha256 *c)
{
  static const uint iv[8] = {   // square roots of the first 8 primes (4.2.2... 5.3.3)
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
  };
  for (int i = 0; i < 8; i++)
    c->h[i] = iv[i];
  c->bytes = 0;
  c->fill = 0;
}

void
sha256_update(struct sha256 *c, const void *data, uint len)
{
  const uchar *p = data;
  c->bytes += len;
  if (c->fill) {
    while (len > 0 && c->fill < 64)
      c->block[c->fill++] = *p++, len--;
    if (c->fill < 64)
      return;
    compress(c->h, c->block);
    c->fill = 0;
  }
  for (; len >= 64; p += 64, len -= 64)
    compress(c->h, p);
  while (len > 0)
    c->block[c->fill++] = *p++, len--;
}

void
sha256_final(struct sha256 *c, uchar digest[32])
{
  uint64 bits = c->bytes * 8;
  c->block[c->fill++] = 0x80;
  if (c->fill > 56) {
    while (c->fill < 64)
      c->block[c->fill++] = 0;
    compress(c->h, c->block);
    c->fill = 0;
  }
  while (c->fill < 56)
    c->block[c->fill++] = 0;
  for (int i = 7; i >= 0; i--)
    c->block[c->fill++] = bits >> (8 * i);
  compress(c->h, c->block);
  for (int i = 0; i < 32; i++)
    digest[i] = c->h[i / 4] >> (24 - 8 * (i % 4));
}

void
sha256_hex(const uchar digest[32], char out[65])
{
  static const char hex[] = "0123456789abcdef";
  for (int i = 0; i < 32; i++) {
    out[2 * i] = hex[digest[i] >> 4];
    out[2 * i + 1] = hex[digest[i] & 15];
  }
  out[64] = 0;
}
