// libFuzzer target: the control socket's message decoder (issue 9). Whatever
// the bytes, parse_header() and decode_spec() return; a spec that decodes is
// valid and encodes back to the same bytes.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "protocol/wire.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace asenet::control;
  if (size >= wire::kHeaderSize) {
    wire::Header h;
    const auto c = wire::parse_header(data, h);
    (void)wire::header_error(c, h);
  }
  asenet::dataplane::TableSpec spec;
  std::string err;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (wire::decode_spec(bytes, spec, err)) {
    if (!wire::validate_spec(spec, err)) {
      std::fprintf(stderr, "decoded an invalid spec: %s\n", err.c_str());
      std::abort();
    }
    if (wire::encode_spec(spec) != bytes) {
      std::fprintf(stderr, "a decoded spec does not encode back to its bytes\n");
      std::abort();
    }
  } else if (err.empty()) {
    std::fprintf(stderr, "refused without a reason\n");
    std::abort();
  }
  return 0;
}
