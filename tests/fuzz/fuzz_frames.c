// libFuzzer target "frames": a sequence of records
//
//   [delay: 2 bytes, little-endian, milliseconds mod 1024][length: 2 bytes,
//   little-endian][frame: length bytes]
//
// each frame delivered to eth0 (checksums fixed, as for "frame"), then the
// fake clock advanced by the delay with the stack's timers run, so that the
// ARP cache, reassembly and (later) TCP timers are reached as well as the
// parsers. A short last record takes what is left.

#include "tests/fuzz/fuzzstack.h"

int LLVMFuzzerTestOneInput(const uchar *data, uint len);

int
LLVMFuzzerTestOneInput(const uchar *data, uint len)
{
  fuzz_boot();
  while (len >= 4) {
    uint delay = (data[0] | data[1] << 8) % 1024;
    uint n = data[2] | data[3] << 8;
    data += 4;
    len -= 4;
    if (n > len)
      n = len;
    fuzz_deliver(data, n);
    data += n;
    len -= n;
    host_advance_ms(delay);
  }
  fuzz_after_input();
  return 0;
}
