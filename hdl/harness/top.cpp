// The top's harness (hdl/tools/top_run.py): load buffers and the PWL table, stream
// descriptors back to back, log dispatch/start/end/done per cycle, dump the buffers.
//
// Built by Verilator with hdl.top.Top as `--prefix Vtop`.  The input file holds, one per
// line:
//   u units             units in the trace (bits of trace.start/end/done)
//   w buf addr word     a host write (hex word)
//   t addr value        a PWL table write (hex, already the port's width)
//   d w0 .. w7          a descriptor (eight hex 32-bit words, word 0 first)
//   r buf depth         after the run, dump words 0 .. depth-1 of buffer buf
// The output file: "D cycle" per dispatch, "S|E|F unit cycle" per start / end / done,
// "C cycles error_code seconds", then per dumped buffer "B buf" and one hex word a line.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>
#include "Vtop.h"
#include "verilated.h"

// Verilator spells the "__" of an Amaranth port name (host__we) as "___05F".
#define PASTE3(a, b, c) a##b##c
#define PORT(group, field) PASTE3(group, ___05F, field)

int main(int argc, char** argv) {
    // args: input-file output-file max_cycles
    if (argc != 4) { fprintf(stderr, "usage: in out max_cycles\n"); return 2; }
    FILE* fin = fopen(argv[1], "r");
    FILE* fout = fopen(argv[2], "w");
    long max_cycles = atol(argv[3]);
    VerilatedContext ctx;
    Vtop top{&ctx};
    auto tick = [&]() { top.clk = 1; top.eval(); top.clk = 0; top.eval(); };
    top.clk = 0; top.rst = 1;
    for (int i = 0; i < 4; ++i) tick();
    top.rst = 0; top.eval();
    std::vector<std::vector<uint32_t>> descs;
    std::vector<std::pair<unsigned, long>> dumps;
    int units = 0;
    char kind;
    while (fscanf(fin, " %c", &kind) == 1) {
        if (kind == 'u') {
            if (fscanf(fin, "%d", &units) != 1) return 2;
        } else if (kind == 'w') {
            unsigned b; unsigned long a, w;
            if (fscanf(fin, "%u %lu %lx", &b, &a, &w) != 3) return 2;
            top.PORT(host, we) = 1; top.PORT(host, buf) = b; top.PORT(host, addr) = a; top.PORT(host, wdata) = w;
            tick();
        } else if (kind == 't') {
            unsigned long a, v;
            if (fscanf(fin, "%lu %lx", &a, &v) != 2) return 2;
            top.PORT(table, we) = 1; top.PORT(table, addr) = a; top.PORT(table, data) = v;
            tick();
        } else if (kind == 'd') {
            std::vector<uint32_t> w(8);
            for (int i = 0; i < 8; ++i) { unsigned long x; if (fscanf(fin, "%lx", &x) != 1) return 2; w[i] = x; }
            descs.push_back(w);
        } else if (kind == 'r') {
            unsigned b; long depth;
            if (fscanf(fin, "%u %ld", &b, &depth) != 2) return 2;
            dumps.emplace_back(b, depth);
        } else {
            return 2;
        }
    }
    fclose(fin);
    top.PORT(host, we) = 0; top.PORT(table, we) = 0;
    size_t sent = 0;
    long cycle = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (; cycle < max_cycles; ++cycle) {
        bool offer = sent < descs.size();
        top.PORT(desc, valid) = offer;
        if (offer) for (int i = 0; i < 8; ++i) top.PORT(desc, payload)[i] = descs[sent][i];
        top.eval();
        bool fire = offer && top.PORT(desc, ready);
        if (top.PORT(trace, dispatch)) fprintf(fout, "D %ld\n", cycle);
        for (int u = 0; u < units; ++u) {
            if ((top.PORT(trace, start) >> u) & 1) fprintf(fout, "S %d %ld\n", u, cycle);
            if ((top.PORT(trace, end) >> u) & 1) fprintf(fout, "E %d %ld\n", u, cycle);
            if ((top.PORT(trace, done) >> u) & 1) fprintf(fout, "F %d %ld\n", u, cycle);
        }
        bool stop = top.PORT(trace, idle) && (sent == descs.size() || top.PORT(trace, error)) && cycle > 0;
        tick();
        if (fire) ++sent;
        if (stop) { ++cycle; break; }
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fprintf(fout, "C %ld %d %.9f\n", cycle, (int)top.PORT(trace, error_code), secs);
    top.PORT(desc, valid) = 0;
    for (auto [b, depth] : dumps) {
        fprintf(fout, "B %u\n", b);
        for (long a = 0; a < depth; ++a) {   // the read port registers address and buffer
            top.PORT(host, buf) = b; top.PORT(host, addr) = a;
            tick();
            fprintf(fout, "%llx\n", (unsigned long long)top.PORT(host, rdata));
        }
    }
    fclose(fout);
    top.final();
    return 0;
}
