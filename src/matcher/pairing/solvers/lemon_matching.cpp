// Exact maximum-weight matching through LEMON's MaxWeightedMatching, for lemon.py (ctypes).
//
// Built by scripts/ensure-lemon.sh into lemon_matching.so next to this file (never committed):
//     g++ -O2 -std=c++14 -shared -fPIC lemon_matching.cpp -o lemon_matching.so
//
// Weights are 64-bit integers: with an integer value type LEMON keeps every dual multiplied by 4 (its dualScale),
// so its arithmetic is exact integer arithmetic while no intermediate overflows. Those stay within about 16 max|w|
// (scaled potentials 2w, reduced costs up to 4w, blossom offsets doubled twice), and random graphs first went wrong
// at weights near 2^62; we accept |w| <= 2^56 (about 7.2e16) and refuse more (lemon.py hands those to rustworkx).

#include <lemon/fractional_matching.h>
#include <lemon/matching.h>
#include <lemon/smart_graph.h>

#include <algorithm>
#include <cstdint>
#include <new>
#include <vector>

namespace {

const int64_t MAX_WEIGHT = int64_t(1) << 56;
const int64_t MAX_ITEMS = int64_t(1) << 29;  // LEMON numbers nodes and arcs (2 per edge) with int

typedef lemon::SmartGraph Graph;
typedef Graph::EdgeMap<long long> Weights;

// 0, or the error code of an input the shim refuses (see lemon_max_weight_matching).
int64_t check(int64_t n, int64_t m, const int64_t* u, const int64_t* v, const int64_t* w) {
    if (n < 0 || m < 0 || n > MAX_ITEMS || m > MAX_ITEMS) return -3;
    for (int64_t i = 0; i < m; ++i) {
        if (u[i] < 0 || u[i] >= n || v[i] < 0 || v[i] >= n) return -1;
        if (w[i] > MAX_WEIGHT || w[i] < -MAX_WEIGHT) return -2;
    }
    return 0;
}

// The caller's graph in LEMON's terms: nodes 0..n-1, and each edge that can be in a maximum-weight (fractional)
// matching (no self-loop, weight > 0) with its position in the caller's arrays.
struct Input {
    Graph g;
    std::vector<Graph::Node> nodes;
    Weights weight;
    std::vector<int64_t> index;  // LEMON edge id -> position in the caller's arrays

    Input(int64_t n, int64_t m, const int64_t* u, const int64_t* v, const int64_t* w) : weight(g) {
        g.reserveNode(int(n));
        g.reserveEdge(int(m));
        nodes.reserve(size_t(n));
        for (int64_t i = 0; i < n; ++i) nodes.push_back(g.addNode());
        index.reserve(size_t(m));
        for (int64_t i = 0; i < m; ++i) {
            if (u[i] == v[i] || w[i] <= 0) continue;
            weight[g.addEdge(nodes[size_t(u[i])], nodes[size_t(v[i])])] = (long long)w[i];
            index.push_back(i);
        }
    }
};

}  // namespace

extern "C" {

// Changes whenever the signature, meaning or weight bound of lemon_max_weight_matching does; lemon.py refuses
// another value.
int lemon_matching_abi(void) { return 3; }

// Maximum-weight (not maximum-cardinality) matching on nodes 0..n-1 and edges (u[i], v[i]) of weight w[i].
// Writes the indices of the chosen edges, ascending, to chosen (room for min(m, n / 2) entries) and returns
// how many there are. Self-loops are never chosen; of parallel edges at most one is.
// Errors: -1 an endpoint outside 0..n-1, -2 a weight beyond +-2^56, -3 n or m too large, -4 out of memory,
// -5 any other C++ exception.
int64_t lemon_max_weight_matching(int64_t n, int64_t m, const int64_t* u, const int64_t* v, const int64_t* w,
                                  int64_t* chosen) {
    if (int64_t bad = check(n, m, u, v, w)) return bad;
    try {
        Input in(n, m, u, v, w);
        lemon::MaxWeightedMatching<Graph, Weights> mwm(in.g, in.weight);
        mwm.run();
        int64_t k = 0;
        for (Graph::EdgeIt e(in.g); e != lemon::INVALID; ++e) {
            if (mwm.matching(Graph::Edge(e))) chosen[k++] = in.index[size_t(in.g.id(e))];
        }
        std::sort(chosen, chosen + k);
        return k;
    } catch (const std::bad_alloc&) {
        return -4;
    } catch (...) {
        return -5;
    }
}

// Optimal dual of the fractional matching LP (max sum w x, x(delta(v)) <= 1, x >= 0) on nodes 0..n-1 and edges
// (u[i], v[i], w[i]), through LEMON's MaxWeightedFractionalMatching without loops: writes each node's potential,
// scaled by 4 (its dualScale for integer weights), to pot, and returns the sum of the potentials (4 times the LP
// optimum), or an error as above. The caller checks the certificate itself (pot >= 0, pot[u] + pot[v] >= 4 w).
int64_t lemon_fractional_duals(int64_t n, int64_t m, const int64_t* u, const int64_t* v, const int64_t* w,
                               int64_t* pot) {
    if (int64_t bad = check(n, m, u, v, w)) return bad;
    try {
        Input in(n, m, u, v, w);
        lemon::MaxWeightedFractionalMatching<Graph, Weights> fm(in.g, in.weight, false);
        fm.run();
        int64_t sum = 0;
        for (int64_t i = 0; i < n; ++i) {
            pot[i] = (int64_t)fm.nodeValue(in.nodes[size_t(i)]);
            sum += pot[i];
        }
        return sum;
    } catch (const std::bad_alloc&) {
        return -4;
    } catch (...) {
        return -5;
    }
}

}  // extern "C"
