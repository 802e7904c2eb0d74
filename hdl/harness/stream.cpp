// The stream harness (hdl/tools/stream.py): stream words into a component's input stream
// with seeded random valid gaps, collect its output stream under seeded random ready
// backpressure, log every transfer.
//
// Built by Verilator with the design as `--prefix Vdut` and these definitions:
//   IW, OW            payload widths of the input and output streams
//   IN_PORT, OUT_PORT the streams' names (Amaranth's `i` and `o`: ports i__payload, ...)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
#include "Vdut.h"
#include "verilated.h"

#ifndef IW
#error "define IW and OW (payload widths) and IN_PORT, OUT_PORT (stream names)"
#endif

// Verilator spells the "__" of an Amaranth port name (i__payload) as "___05F".
#define PASTE3(a, b, c) a##b##c
#define PORT(stream, field) PASTE3(stream, ___05F, field)
#define IN(field) PORT(IN_PORT, field)
#define OUT(field) PORT(OUT_PORT, field)

static uint64_t rng_state;
static uint32_t rnd16() {  // xorshift64*, top 16 bits
    rng_state ^= rng_state >> 12; rng_state ^= rng_state << 25; rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ULL) >> 48);
}

// words are hex strings, least significant 32-bit chunk first after parsing
static std::vector<uint32_t> parse_hex(const char* s, int width) {
    int nw = (width + 31) / 32;
    std::vector<uint32_t> w(nw, 0);
    int len = strlen(s), bit = 0;
    for (int i = len - 1; i >= 0 && bit < nw * 32; --i, bit += 4) {
        char c = s[i];
        uint32_t v = (c >= '0' && c <= '9') ? c - '0' : (c | 32) - 'a' + 10;
        w[bit / 32] |= v << (bit % 32);
    }
    return w;
}

template <typename T> static void set_word(T& port, const std::vector<uint32_t>& w) {
    if constexpr (sizeof(T) <= 8) {
        uint64_t v = w[0];
        if (w.size() > 1) v |= (uint64_t)w[1] << 32;
        port = (T)v;
    } else {
        for (size_t i = 0; i < w.size(); ++i) port[i] = w[i];
    }
}

template <typename T> static std::string get_word(const T& port, int width) {
    std::string out;
    char buf[16];
    if constexpr (sizeof(T) <= 8) {
        snprintf(buf, sizeof buf, "%llx", (unsigned long long)port);
        out = buf;
    } else {
        int nw = (width + 31) / 32;
        for (int i = nw - 1; i >= 0; --i) {
            snprintf(buf, sizeof buf, i == nw - 1 ? "%x" : "%08x", (unsigned)port[i]);
            out += buf;
        }
    }
    return out;
}

int main(int argc, char** argv) {
    // args: input-file output-file n_outputs gap_per_65536 stall_per_65536 seed max_cycles
    if (argc != 8) { fprintf(stderr, "usage: in out n gap stall seed max\n"); return 2; }
    FILE* fin = fopen(argv[1], "r");
    FILE* fout = fopen(argv[2], "w");
    long n_out = atol(argv[3]);
    uint32_t gap = atoi(argv[4]), stall = atoi(argv[5]);
    rng_state = strtoull(argv[6], nullptr, 10) * 0x9E3779B97F4A7C15ULL + 1;
    long max_cycles = atol(argv[7]);
    std::vector<std::vector<uint32_t>> inputs;
    char line[4096];
    while (fgets(line, sizeof line, fin)) {
        line[strcspn(line, "\r\n")] = 0;
        if (*line) inputs.push_back(parse_hex(line, IW));
    }
    fclose(fin);
    VerilatedContext ctx;
    Vdut top{&ctx};
    top.clk = 0; top.rst = 1; top.IN(valid) = 0; top.OUT(ready) = 0;
    for (int i = 0; i < 4; ++i) { top.clk = 1; top.eval(); top.clk = 0; top.eval(); }
    top.rst = 0; top.eval();
    size_t next_in = 0;
    long got = 0, cycle = 0;
    for (; cycle < max_cycles && got < n_out; ++cycle) {
        bool offer = next_in < inputs.size() && !(gap && rnd16() < gap);
        top.IN(valid) = offer;
        if (offer) set_word(top.IN(payload), inputs[next_in]);
        top.OUT(ready) = !(stall && rnd16() < stall);
        top.eval();
        bool in_fire = top.IN(valid) && top.IN(ready);
        bool out_fire = top.OUT(valid) && top.OUT(ready);
        if (out_fire) {
            fprintf(fout, "o %ld %s\n", cycle, get_word(top.OUT(payload), OW).c_str());
            ++got;
        }
        top.clk = 1; top.eval(); top.clk = 0; top.eval();
        if (in_fire) { fprintf(fout, "i %ld\n", cycle); ++next_in; }
    }
    fprintf(fout, "c %ld\n", cycle);
    fclose(fout);
    top.final();
    return got == n_out ? 0 : 3;
}
