// Random bytes for getrandom() (DNS query IDs and source ports, DHCP
// transaction IDs): ChaCha20's block function (RFC 8439) run as a keystream
// generator whose key is stirred, before each request, with the time-stamp
// counter samples that interrupts leave in a small pool. After each request
// the key is replaced by fresh keystream ("fast key erasure"), so bytes
// already handed out cannot be worked back from the state.
//
// How good the seed is depends on the timing of interrupts under the
// emulator: unpredictable to an observer on the network, but no one has
// measured it. Good enough to keep off-path spoofers guessing; not a source
// for long-term keys.

#include "kernel/types.h"
#include "kernel/defs.h"
#include "kernel/spinlock.h"
#include "kernel/x86.h"

#define POOLWORDS 16

static struct {
  struct spinlock lock;
  uint key[8];
  uint counter;
  uint pool[POOLWORDS];    // interrupt timings, xor-ed in round robin
  uint next;
} rnd = { .lock = { 0, "random" } };

static inline uint
rotl(uint v, int n)
{
  return (v << n) | (v >> (32 - n));
}

#define QR(a, b, c, d) do {                       \
    a += b; d ^= a; d = rotl(d, 16);              \
    c += d; b ^= c; b = rotl(b, 12);              \
    a += b; d ^= a; d = rotl(d, 8);               \
    c += d; b ^= c; b = rotl(b, 7);               \
  } while (0)

// One 64-byte block of keystream for key, counter and nonce.
static void
chacha20block(uint out[16], const uint key[8], uint counter, const uint nonce[3])
{
  uint in[16] = { 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574 };   // "expand 32-byte k"
  uint *x = out;

  for (int i = 0; i < 8; i++)
    in[4 + i] = key[i];
  in[12] = counter;
  for (int i = 0; i < 3; i++)
    in[13 + i] = nonce[i];
  for (int i = 0; i < 16; i++)
    x[i] = in[i];
  for (int i = 0; i < 10; i++) {
    QR(x[0], x[4], x[8], x[12]); QR(x[1], x[5], x[9], x[13]);
    QR(x[2], x[6], x[10], x[14]); QR(x[3], x[7], x[11], x[15]);
    QR(x[0], x[5], x[10], x[15]); QR(x[1], x[6], x[11], x[12]);
    QR(x[2], x[7], x[8], x[13]); QR(x[3], x[4], x[9], x[14]);
  }
  for (int i = 0; i < 16; i++)
    x[i] += in[i];
}

// An interrupt's timing (or any other value worth mixing in); from any
// context, without the lock: a lost race only loses a sample.
void
random_add(uint sample)
{
  uint i = rnd.next++ % POOLWORDS;
  rnd.pool[i] = rotl(rnd.pool[i], 7) ^ sample;
}

// Fold the pool into the key through one block (the pool as nonce and
// counter), so that every sample affects every key word.
static void
stir(void)
{
  uint block[16], nonce[3];
  uint64 t = rdtsc();

  for (int i = 0; i < 3; i++)
    nonce[i] = rnd.pool[i] ^ rnd.pool[i + 3] ^ rnd.pool[i + 6] ^ rnd.pool[i + 9];
  nonce[0] ^= (uint)t;
  nonce[1] ^= (uint)(t >> 32);
  chacha20block(block, rnd.key, rnd.pool[12] ^ rnd.pool[13] ^ rnd.pool[14] ^ rnd.pool[15], nonce);
  for (int i = 0; i < 8; i++)
    rnd.key[i] ^= block[i] ^ block[8 + i];
  memset(block, 0, sizeof block);
}

void
random_get(void *buf, uint n)
{
  static const uint zero[3];
  uint block[16];
  uchar *dst = buf;

  acquire(&rnd.lock);
  stir();
  while (n > 0) {
    chacha20block(block, rnd.key, ++rnd.counter, zero);
    uint k = MIN(n, sizeof block);
    memmove(dst, block, k);
    dst += k;
    n -= k;
  }
  chacha20block(block, rnd.key, ++rnd.counter, zero);   // the next key
  memmove(rnd.key, block, sizeof rnd.key);
  memset(block, 0, sizeof block);
  release(&rnd.lock);
}
