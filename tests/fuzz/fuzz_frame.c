// libFuzzer target "frame": one Ethernet frame into eth0's receive path
// (tests/fuzz/fuzzstack.h says what is set up and how checksums are fixed).

#include "tests/fuzz/fuzzstack.h"

int LLVMFuzzerTestOneInput(const uchar *data, uint len);

int
LLVMFuzzerTestOneInput(const uchar *data, uint len)
{
  fuzz_boot();
  fuzz_deliver(data, len);
  fuzz_after_input();
  return 0;
}
