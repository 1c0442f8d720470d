// The DNC's memory access step (PAPER.md §1) fused into one operation per
// direction, on CPU, with forward and backward written by hand.
//
// It computes exactly what kgdnc/dnc/memory.py::access_step computes after
// kgdnc/dnc/interface.py::split_interface (the Python code is the reference;
// the tests compare values and gradients to 1e-6 in float64). The batch is
// split over threads with at::parallel_for (OpenMP); each batch element is
// processed by plain loops over its own rows.
//
// Shapes: B batch, N slots, W word width, R read heads, K links kept per row,
// S interface width. Tensors are contiguous; row-major indexing below.

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/addmm.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/mm.h>
#include <ATen/ops/sort.h>
#include <ATen/ops/topk.h>
#include <ATen/ops/zeros.h>
#include <ATen/ops/zeros_like.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/library.h>

#include <ATen/ops/from_blob.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace {

using at::Tensor;

// ------------------------------------------------------------- buffer pool
//
// A training batch keeps every step's (B, N, N) link matrix alive until the
// backward pass, then frees them all; the next batch allocates them again.
// Fresh memory costs a page fault per 4 KiB page on first touch (measured
// here: ~2.5 ms per 2 MiB, more than the step's arithmetic), so big outputs
// come from this pool of already-touched buffers, returned to it when the
// tensor is freed. At most KGDNC_FUSED_POOL_MB (default 4096) MiB are kept.

class Pool {
 public:
  static Pool& get() {
    static Pool* pool = new Pool();  // never destroyed: tensors may outlive statics
    return *pool;
  }
  void* take(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(bytes);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        kept_ -= bytes;
        return p;
      }
    }
    void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    TORCH_CHECK(p != nullptr, "kgdnc fused access step: out of memory");
    return p;
  }
  void give(void* p, size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (kept_ + bytes <= limit_) {
        free_[bytes].push_back(p);
        kept_ += bytes;
        return;
      }
    }
    std::free(p);
  }

 private:
  Pool() {
    const char* env = std::getenv("KGDNC_FUSED_POOL_MB");
    limit_ = (env != nullptr ? std::strtoull(env, nullptr, 10) : 4096ull) << 20;
  }
  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  size_t kept_ = 0;
  size_t limit_ = 0;
};

// An uninitialised tensor; all but tiny ones come from the pool (small fresh
// tensors kept for backward fault in new heap pages just the same).
Tensor pooled_empty(at::IntArrayRef sizes, const at::TensorOptions& options) {
  int64_t numel = 1;
  for (int64_t s : sizes) numel *= s;
  const size_t bytes = static_cast<size_t>(numel) * options.dtype().itemsize();
  if (bytes < (size_t(4) << 10)) return at::empty(sizes, options);
  void* p = Pool::get().take(bytes);
  return at::from_blob(
      p, sizes, [bytes](void* q) { Pool::get().give(q, bytes); }, options);
}

Tensor pooled_zeros(at::IntArrayRef sizes, const at::TensorOptions& options) {
  return pooled_empty(sizes, options).zero_();
}

// ---------------------------------------------------------------- interface

// Offsets of the parts of ξ_t (interface.py's table, in its order).
struct Layout {
  int64_t R, W, S;
  int64_t kr, br, kw, bw, erase, wvec, gates, modes, mr, mw, sf, sb;
  Layout(int64_t r, int64_t w, bool masking, bool sharpness) : R(r), W(w) {
    kr = 0;
    br = kr + R * W;
    kw = br + R;
    bw = kw + W;
    erase = bw + 1;
    wvec = erase + W;
    gates = wvec + W;  // R free gates, g^a, g^w
    modes = gates + R + 2;
    int64_t end = modes + 3 * R;
    mr = mw = sf = sb = -1;
    if (masking) {
      mr = end;
      mw = mr + R * W;
      end = mw + W;
    }
    if (sharpness) {
      sf = end;
      sb = sf + R;
      end = sb + R;
    }
    S = end;
  }
};

template <typename T>
inline T sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

// oneplus(x) = 1 + softplus(x), with torch's softplus threshold of 20
template <typename T>
inline T oneplus(T x) {
  return T(1) + (x > T(20) ? x : std::log1p(std::exp(x)));
}

template <typename T>
inline T oneplus_grad(T x) {  // d oneplus / dx, as torch's softplus_backward
  if (x > T(20)) return T(1);
  T z = std::exp(x);
  return z / (z + T(1));
}

// The squashed interface of one batch element.
template <typename T>
struct Squashed {
  std::vector<T> br, bw1, erase, free, modes, mr, mw, sf, sb;
  T ga = 0, gw = 0;
  const T* kr = nullptr;
  const T* kw = nullptr;
  const T* wvec = nullptr;

  void fill(const T* xi, const Layout& L, T floor) {
    const int64_t R = L.R, W = L.W;
    kr = xi + L.kr;
    kw = xi + L.kw;
    wvec = xi + L.wvec;
    br.resize(R);
    for (int64_t r = 0; r < R; ++r) br[r] = oneplus(xi[L.br + r]);
    bw1.assign(1, oneplus(xi[L.bw]));
    erase.resize(W);
    for (int64_t w = 0; w < W; ++w) erase[w] = sigmoid(xi[L.erase + w]);
    free.resize(R);
    for (int64_t r = 0; r < R; ++r) free[r] = sigmoid(xi[L.gates + r]);
    ga = sigmoid(xi[L.gates + R]);
    gw = sigmoid(xi[L.gates + R + 1]);
    modes.resize(3 * R);
    for (int64_t r = 0; r < R; ++r) {
      const T* x = xi + L.modes + 3 * r;
      T m = std::max(x[0], std::max(x[1], x[2]));
      T e0 = std::exp(x[0] - m), e1 = std::exp(x[1] - m), e2 = std::exp(x[2] - m);
      T s = e0 + e1 + e2;
      modes[3 * r] = e0 / s;
      modes[3 * r + 1] = e1 / s;
      modes[3 * r + 2] = e2 / s;
    }
    if (L.mr >= 0) {
      mr.resize(R * W);
      mw.resize(W);
      for (int64_t i = 0; i < R * W; ++i) {
        T s = sigmoid(xi[L.mr + i]);
        mr[i] = floor > T(0) ? s * (T(1) - floor) + floor : s;
      }
      for (int64_t w = 0; w < W; ++w) {
        T s = sigmoid(xi[L.mw + w]);
        mw[w] = floor > T(0) ? s * (T(1) - floor) + floor : s;
      }
    }
    if (L.sf >= 0) {
      sf.resize(R);
      sb.resize(R);
      for (int64_t r = 0; r < R; ++r) {
        sf[r] = oneplus(xi[L.sf + r]);
        sb[r] = oneplus(xi[L.sb + r]);
      }
    }
  }
};

// ------------------------------------------------------------ vector helpers

template <typename T>
struct Simd {
  static constexpr int64_t lanes = 32 / static_cast<int64_t>(sizeof(T));
  typedef T vec __attribute__((vector_size(32)));
  static vec load(const T* p) {
    vec v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static void store(T* p, vec v) { std::memcpy(p, &v, sizeof v); }
  static vec splat(T x) { return vec{} + x; }
  static T sum(vec v) {
    T s = 0;
    for (int64_t k = 0; k < lanes; ++k) s += v[k];
    return s;
  }
};

// Σ_w k[w] row[w] and Σ_w row[w]², in vector registers
template <typename T>
inline void dot_and_square(const T* k, const T* row, int64_t W, T& dot, T& square) {
  using S = Simd<T>;
  using V = typename S::vec;
  constexpr int64_t VL = S::lanes;
  V d{}, s{};
  int64_t w = 0;
  for (; w + VL <= W; w += VL) {
    const V r = S::load(row + w);
    d += S::load(k + w) * r;
    s += r * r;
  }
  T dd = S::sum(d), ss = S::sum(s);
  for (; w < W; ++w) {
    dd += k[w] * row[w];
    ss += row[w] * row[w];
  }
  dot = dd;
  square = ss;
}

// ---------------------------------------------------------- content lookup

// c = softmax_n(β cos(k, M[n])) for one head; as addressing.content_weighting.
// Without a mask: cos = k·M[n] / (|k| |M[n]| + ε) (fused.CosineContent).
// With a mask m: cos = (k∘m²)·M[n] / (sqrt(Σ k² m² + ε²) sqrt(Σ m² M[n]² + ε²) + ε).

// |k|, or with a mask m: sqrt(Σ k² m² + ε²).
template <typename T>
T key_norm(const T* k, int64_t W, const T* mask, T eps) {
  T s = 0;
  if (mask == nullptr) {
    for (int64_t w = 0; w < W; ++w) s += k[w] * k[w];
    return std::sqrt(s);
  }
  for (int64_t w = 0; w < W; ++w) s += k[w] * k[w] * (mask[w] * mask[w]);
  return std::sqrt(s + eps * eps);
}

// dot = k·row and norm = |row|, or with a mask m: (k∘m²)·row and sqrt(Σ m² row² + ε²).
template <typename T>
void row_dot_norm(const T* k, const T* row, int64_t W, const T* mask, T eps, T& dot, T& norm) {
  dot = 0;
  norm = 0;
  if (mask == nullptr) {
    dot_and_square(k, row, W, dot, norm);
    norm = std::sqrt(norm);
    return;
  }
  T d = 0, sq = 0;
#pragma omp simd reduction(+ : d, sq)
  for (int64_t w = 0; w < W; ++w) {
    T m2 = mask[w] * mask[w];
    d += k[w] * m2 * row[w];
    sq += m2 * (row[w] * row[w]);
  }
  dot = d;
  norm = std::sqrt(sq + eps * eps);
}

template <typename T>
void content_forward(const T* M, int64_t N, int64_t W, const T* k, T beta, const T* mask,
                     T eps, T* out, T* cosine) {
  const T kn = key_norm(k, W, mask, eps);
  T zmax = -std::numeric_limits<T>::infinity();
  for (int64_t n = 0; n < N; ++n) {
    const T* row = M + n * W;
    T dot, sq;
    row_dot_norm(k, row, W, mask, eps, dot, sq);
    T c = dot / (kn * sq + eps);
    cosine[n] = c;
    T z = c * beta;
    out[n] = z;
    zmax = std::max(zmax, z);
  }
  T total = 0;
  for (int64_t n = 0; n < N; ++n) {
    out[n] = std::exp(out[n] - zmax);
    total += out[n];
  }
  for (int64_t n = 0; n < N; ++n) out[n] /= total;
}

// Backward of content_forward: given c (N) and its gradient g (N), add the
// gradients to gM (N, W), gk (W), gbeta, gmask (W, nullable = no mask).
template <typename T>
void content_backward(const T* __restrict__ M, int64_t N, int64_t W, const T* __restrict__ k,
                      T beta, const T* __restrict__ mask, T eps, const T* __restrict__ c,
                      const T* __restrict__ g, T* __restrict__ gM, T* __restrict__ gk,
                      T& gbeta, T* __restrict__ gmask,
                      std::vector<T>& scratch) {
  scratch.assign(3 * N, T(0));
  T* norms = scratch.data();       // |M[n]| (masked or not)
  T* gdots = norms + N;            // dL/d(k·M[n])
  T* gnorms = gdots + N;           // dL/d|M[n]|
  const T kn = key_norm(k, W, mask, eps);
  T gc = 0;
  for (int64_t n = 0; n < N; ++n) gc += g[n] * c[n];
  T gkn = 0;
  for (int64_t n = 0; n < N; ++n) {
    const T* row = M + n * W;
    T dot, sq;
    row_dot_norm(k, row, W, mask, eps, dot, sq);
    T denom = kn * sq + eps;
    T cosv = dot / denom;
    T gz = (g[n] - gc) * c[n];  // softmax backward
    gbeta += gz * cosv;
    T gd = gz * beta / denom;     // d/d dot
    T gden = -gd * cosv;          // d/d denom
    norms[n] = sq;
    gdots[n] = gd;
    gnorms[n] = gden * kn;
    gkn += gden * sq;
  }
  if (mask == nullptr) {
    T kscale = kn > T(0) ? gkn / kn : T(0);
    for (int64_t w = 0; w < W; ++w) gk[w] += k[w] * kscale;
    for (int64_t n = 0; n < N; ++n) {
      const T* row = M + n * W;
      T* grow = gM + n * W;
      T gd = gdots[n];
      T mscale = norms[n] > T(0) ? gnorms[n] / norms[n] : T(0);
#pragma omp simd
      for (int64_t w = 0; w < W; ++w) {
        grow[w] += gd * k[w] + row[w] * mscale;
        gk[w] += gd * row[w];
      }
    }
  } else {
    // kn = sqrt(Σ k² m² + ε²): d/dk_w = k_w m²_w / kn, d/dm²_w = k_w² / (2 kn)
    std::vector<T> gm2(W, T(0));
    T a = gkn / kn;
    for (int64_t w = 0; w < W; ++w) {
      T m2 = mask[w] * mask[w];
      gk[w] += a * k[w] * m2;
      gm2[w] += T(0.5) * a * k[w] * k[w];
    }
    for (int64_t n = 0; n < N; ++n) {
      const T* row = M + n * W;
      T* grow = gM + n * W;
      T gd = gdots[n];
      T b = gnorms[n] / norms[n];  // norms ≥ ε > 0
#pragma omp simd
      for (int64_t w = 0; w < W; ++w) {
        T m2 = mask[w] * mask[w];
        grow[w] += gd * k[w] * m2 + b * m2 * row[w];
        gk[w] += gd * m2 * row[w];
        gm2[w] += gd * k[w] * row[w] + T(0.5) * b * row[w] * row[w];
      }
    }
    for (int64_t w = 0; w < W; ++w) gmask[w] += gm2[w] * T(2) * mask[w];
  }
}

// The unmasked content lookups of H keys K (H, W) on the same rows M (N, W), as
// content_forward / content_backward per head, in one pass over the rows: each
// row's norm is taken once, and its dots with all keys from one load of it.
constexpr int64_t kHeadGroup = 4;  // keys per pass (vector accumulators in registers)

// dots[h] = K[h]·row (h < H ≤ kHeadGroup) and Σ row², in vector registers.
template <typename T>
inline void row_dots(const T* K, int64_t H, const T* row, int64_t W, T* dots, T& square) {
  using S = Simd<T>;
  using V = typename S::vec;
  constexpr int64_t VL = S::lanes;
  V d[kHeadGroup] = {}, s{};
  int64_t w = 0;
  for (; w + VL <= W; w += VL) {
    const V r = S::load(row + w);
    s += r * r;
    for (int64_t h = 0; h < H; ++h) d[h] += S::load(K + h * W + w) * r;
  }
  square = S::sum(s);
  for (int64_t h = 0; h < H; ++h) dots[h] = S::sum(d[h]);
  for (; w < W; ++w) {
    square += row[w] * row[w];
    for (int64_t h = 0; h < H; ++h) dots[h] += K[h * W + w] * row[w];
  }
}

// out (H, N): softmax_n(β_h cos(K[h], M[n])) for every key.
template <typename T>
void content_forward_heads(const T* M, int64_t N, int64_t W, const T* K, const T* beta,
                           int64_t H, T eps, T* out) {
  for (int64_t h0 = 0; h0 < H; h0 += kHeadGroup) {
    const int64_t G = std::min(kHeadGroup, H - h0);
    const T* Kg = K + h0 * W;
    T kn[kHeadGroup], zmax[kHeadGroup], dots[kHeadGroup];
    for (int64_t h = 0; h < G; ++h) {
      kn[h] = key_norm(Kg + h * W, W, static_cast<const T*>(nullptr), eps);
      zmax[h] = -std::numeric_limits<T>::infinity();
    }
    for (int64_t n = 0; n < N; ++n) {
      T sq;
      row_dots(Kg, G, M + n * W, W, dots, sq);
      const T norm = std::sqrt(sq);
      for (int64_t h = 0; h < G; ++h) {
        const T z = dots[h] / (kn[h] * norm + eps) * beta[h0 + h];
        out[(h0 + h) * N + n] = z;
        zmax[h] = std::max(zmax[h], z);
      }
    }
    for (int64_t h = 0; h < G; ++h) {
      T* o = out + (h0 + h) * N;
      T total = 0;
      for (int64_t n = 0; n < N; ++n) {
        o[n] = std::exp(o[n] - zmax[h]);
        total += o[n];
      }
      for (int64_t n = 0; n < N; ++n) o[n] /= total;
    }
  }
}

// Backward of content_forward_heads: c, g (H, N); adds to gM (N, W), gK (H, W)
// and gbeta (H).
template <typename T>
void content_backward_heads(const T* __restrict__ M, int64_t N, int64_t W,
                            const T* __restrict__ K, const T* beta, int64_t H, T eps,
                            const T* __restrict__ c, const T* __restrict__ g,
                            T* __restrict__ gM, T* __restrict__ gK, T* gbeta,
                            std::vector<T>& scratch) {
  for (int64_t h0 = 0; h0 < H; h0 += kHeadGroup) {
    const int64_t G = std::min(kHeadGroup, H - h0);
    const T* Kg = K + h0 * W;
    T* gKg = gK + h0 * W;
    scratch.assign((G + 1) * N, T(0));
    T* gdots = scratch.data();     // (G, N) dL/d(k_h·M[n])
    T* rowscale = gdots + G * N;   // (N) Σ_h dL/d|M[n]| / |M[n]|
    T kn[kHeadGroup], gc[kHeadGroup], gkn[kHeadGroup], dots[kHeadGroup];
    for (int64_t h = 0; h < G; ++h) {
      kn[h] = key_norm(Kg + h * W, W, static_cast<const T*>(nullptr), eps);
      gkn[h] = 0;
      gc[h] = 0;
      const T* ch = c + (h0 + h) * N;
      const T* gh = g + (h0 + h) * N;
      for (int64_t n = 0; n < N; ++n) gc[h] += gh[n] * ch[n];
    }
    for (int64_t n = 0; n < N; ++n) {
      T sq;
      row_dots(Kg, G, M + n * W, W, dots, sq);
      const T norm = std::sqrt(sq);
      T gnorm = 0;
      for (int64_t h = 0; h < G; ++h) {
        const int64_t hn = (h0 + h) * N + n;
        const T denom = kn[h] * norm + eps;
        const T cosv = dots[h] / denom;
        const T gz = (g[hn] - gc[h]) * c[hn];  // softmax backward
        gbeta[h0 + h] += gz * cosv;
        const T gd = gz * beta[h0 + h] / denom;  // d/d dot
        const T gden = -gd * cosv;               // d/d denom
        gdots[h * N + n] = gd;
        gnorm += gden * kn[h];
        gkn[h] += gden * norm;
      }
      rowscale[n] = norm > T(0) ? gnorm / norm : T(0);
    }
    for (int64_t h = 0; h < G; ++h) {
      const T kscale = kn[h] > T(0) ? gkn[h] / kn[h] : T(0);
      for (int64_t w = 0; w < W; ++w) gKg[h * W + w] += Kg[h * W + w] * kscale;
    }
    for (int64_t n = 0; n < N; ++n) {
      const T* row = M + n * W;
      T* grow = gM + n * W;
      const T rs = rowscale[n];
#pragma omp simd
      for (int64_t w = 0; w < W; ++w) grow[w] += row[w] * rs;
      for (int64_t h = 0; h < G; ++h) {
        const T gd = gdots[h * N + n];
        const T* kh = Kg + h * W;
        T* gkh = gKg + h * W;
#pragma omp simd
        for (int64_t w = 0; w < W; ++w) {
          grow[w] += gd * kh[w];
          gkh[w] += gd * row[w];
        }
      }
    }
  }
}

// ----------------------------------------------------------- link sharpness

// S(d, s)_n = Σd · y_n^s / Σ_m y_m^s, y = max(d / max(d), tiny) (addressing.sharpen).
template <typename T>
void sharpen_forward(const T* d, int64_t N, T s, T* out) {
  const T tiny = std::numeric_limits<T>::min();
  T scale = tiny, total = 0;
  for (int64_t n = 0; n < N; ++n) {
    scale = std::max(scale, d[n]);
    total += d[n];
  }
  T sum = 0;
  for (int64_t n = 0; n < N; ++n) {
    T y = std::max(d[n] / scale, tiny);
    out[n] = std::pow(y, s);
    sum += out[n];
  }
  T factor = total / std::max(sum, tiny);
  for (int64_t n = 0; n < N; ++n) out[n] *= factor;
}

template <typename T>
void sharpen_backward(const T* d, int64_t N, T s, const T* g, T* gd, T& gs) {
  const T tiny = std::numeric_limits<T>::min();
  T scale = tiny, total = 0;
  for (int64_t n = 0; n < N; ++n) {
    scale = std::max(scale, d[n]);
    total += d[n];
  }
  std::vector<T> P(N);
  T sum = 0;
  for (int64_t n = 0; n < N; ++n) {
    T y = std::max(d[n] / scale, tiny);
    P[n] = std::pow(y, s);
    sum += P[n];
  }
  T Q = std::max(sum, tiny);
  T c = total / Q;
  T gcf = 0;
  for (int64_t n = 0; n < N; ++n) gcf += g[n] * P[n];
  T gtotal = gcf / Q;
  // -gcf·total/Q², in an order that never forms Q² (it underflows in float32 for Q
  // near tiny, and 0/0 made NaN where every d was 0 and s close to 1)
  T gQ = sum >= tiny ? -gtotal * c : T(0);
  for (int64_t n = 0; n < N; ++n) {
    T ratio = d[n] / scale;
    T y = std::max(ratio, tiny);
    T gP = g[n] * c + gQ;
    gs += gP * P[n] * std::log(y);
    T gy = gP * s * std::pow(y, s - T(1));
    gd[n] += gtotal + (ratio >= tiny ? gy / scale : T(0));
  }
}

// ------------------------------------------------------------- dense links
//
// The dense link update and the directional weightings, one pass over the
// rows of L per direction with every read head handled in the same pass:
//
//   L_t[i,j] = (1 − w[i] − w[j]) L_{t-1}[i,j] + w[i] p_{t-1}[j],  L_t[i,i] = 0
//   f[r,i] = Σ_j L_t[i,j] w^r_{t-1}[r,j],   b[r,j] = Σ_i L_t[i,j] w^r_{t-1}[r,i]
//
// Written with the compilers' vector extensions (32-byte vectors: AVX2 under
// -march=native, pairs of 16-byte registers elsewhere). The (R, N)-sized
// operands are first packed chunk by chunk, [chunk][head][lane], so that one
// pass reads them as a single stream (rows of N floats 1 KiB apart would alias
// in the L1 cache), and the per-row sums stay in registers, R of them at once.

// R values kept in registers when R is a compile-time constant (RC > 0),
// else on the heap (any number of read heads).
template <typename X, int RC>
struct PerHead {
  X v[RC];
  explicit PerHead(int64_t) {}
  X& operator[](int64_t r) { return v[r]; }
};
template <typename X>
struct PerHead<X, 0> {
  std::vector<X> v;
  explicit PerHead(int64_t n) : v(n) {}
  X& operator[](int64_t r) { return v[r]; }
};

// Per-thread buffers of the dense link passes (padded to whole vectors).
template <typename T>
struct DenseScratch {
  std::vector<T> w, p, packed, acc, colsum, gp, tail;
  void prepare(int64_t padded, int64_t heads_packed, int64_t heads_acc) {
    w.assign(padded, T(0));
    p.assign(padded, T(0));
    packed.assign(padded * heads_packed, T(0));
    acc.assign(padded * heads_acc, T(0));
    colsum.assign(padded, T(0));
    gp.assign(padded, T(0));
    tail.assign(3 * Simd<T>::lanes, T(0));
  }
};

// rows[r][n] (R rows of N) -> out[c][offset + r][lane], chunks of `lanes`
template <typename T>
void pack_heads(const T* rows, int64_t R, int64_t N, int64_t heads, int64_t offset, T* out) {
  constexpr int64_t VL = Simd<T>::lanes;
  for (int64_t r = 0; r < R; ++r)
    for (int64_t n = 0; n < N; ++n) out[(n / VL) * heads * VL + (offset + r) * VL + n % VL] =
        rows[r * N + n];
}

// Calls chunk(src, dst, c, diag) for every vector chunk c of row i of an N-wide
// matrix: src/dst point into the rows, or, for a last partial chunk, into
// zero-padded copies (copied back after); diag is the lane of column i, or −1.
template <typename T, typename F>
inline void for_each_chunk(int64_t i, int64_t N, const T* src0, const T* src1, T* dst,
                           T* tail, F&& chunk) {
  constexpr int64_t VL = Simd<T>::lanes;
  const int64_t full = N / VL, rest = N - full * VL, ci = i / VL;
  for (int64_t c = 0; c < full; ++c)
    chunk(src0 + c * VL, src1 + c * VL, dst + c * VL, c, c == ci ? i - c * VL : -1);
  if (rest > 0) {
    T* t0 = tail;
    T* t1 = tail + VL;
    T* t2 = tail + 2 * VL;
    for (int64_t k = 0; k < VL; ++k) {
      t0[k] = k < rest ? src0[full * VL + k] : T(0);
      t1[k] = (src1 != nullptr && k < rest) ? src1[full * VL + k] : T(0);
    }
    chunk(t0, src1 != nullptr ? t1 : nullptr, t2, full, full == ci ? i - full * VL : -1);
    for (int64_t k = 0; k < rest; ++k) dst[full * VL + k] = t2[k];
  }
}

// Forward for one batch element: L (N, N) from L0; f, b (R, N) written.
template <typename T, int RC>
void dense_links_forward(const T* L0, T* L, const T* pw, const T* pprev, const T* w0,
                         int64_t N, int64_t R_, T* f, T* bk, DenseScratch<T>& s) {
  using S = Simd<T>;
  using V = typename S::vec;
  constexpr int64_t VL = S::lanes;
  const int64_t R = RC > 0 ? RC : R_;
  const int64_t padded = (N + VL - 1) / VL * VL;
  s.prepare(padded, R, R);
  std::copy(pw, pw + N, s.w.begin());
  std::copy(pprev, pprev + N, s.p.begin());
  pack_heads(w0, R, N, R, 0, s.packed.data());
  const T* pws = s.w.data();
  const T* pps = s.p.data();
  const T* packed = s.packed.data();
  T* bacc = s.acc.data();
  PerHead<V, RC> acc(R);
  PerHead<V, RC> coef(R);
  for (int64_t i = 0; i < N; ++i) {
    const T wi = pw[i];
    const V va = S::splat(T(1) - wi), vwi = S::splat(wi);
    for (int64_t r = 0; r < R; ++r) {
      acc[r] = V{};
      coef[r] = S::splat(w0[r * N + i]);
    }
    for_each_chunk<T>(i, N, L0 + i * N, nullptr, L + i * N, s.tail.data(),
                      [&](const T* l0, const T*, T* l, int64_t c, int64_t diag) {
      V lv = (va - S::load(pws + c * VL)) * S::load(l0) + vwi * S::load(pps + c * VL);
      if (diag >= 0) lv[diag] = T(0);
      S::store(l, lv);
      const T* pk = packed + c * R * VL;
      T* ba = bacc + c * R * VL;
      for (int64_t r = 0; r < R; ++r) {
        acc[r] += lv * S::load(pk + r * VL);
        S::store(ba + r * VL, S::load(ba + r * VL) + coef[r] * lv);
      }
    });
    for (int64_t r = 0; r < R; ++r) f[r * N + i] = S::sum(acc[r]);
  }
  for (int64_t r = 0; r < R; ++r)
    for (int64_t n = 0; n < N; ++n) bk[r * N + n] = bacc[(n / VL) * R * VL + r * VL + n % VL];
}

// Backward for one batch element. In: gL (N, N) = ∂L_t, gf, gb (R, N) = ∂f, ∂b.
// Out: gL0 (N, N) = ∂L_{t-1} (written); added to: gw0 (R, N) = ∂w^r_{t-1},
// gww (N) = ∂w, gp0 (N) = ∂p_{t-1}. L_t's rows are recomputed from L_{t-1}.
template <typename T, int RC>
void dense_links_backward(const T* L0, const T* gL, T* gL0, const T* pw, const T* pprev,
                          const T* w0, const T* gf, const T* gb, int64_t N, int64_t R_,
                          T* gw0, T* gww, T* gp0, DenseScratch<T>& s) {
  using S = Simd<T>;
  using V = typename S::vec;
  constexpr int64_t VL = S::lanes;
  const int64_t R = RC > 0 ? RC : R_;
  const int64_t padded = (N + VL - 1) / VL * VL;
  s.prepare(padded, 2 * R, R);
  std::copy(pw, pw + N, s.w.begin());
  std::copy(pprev, pprev + N, s.p.begin());
  pack_heads(w0, R, N, 2 * R, 0, s.packed.data());
  pack_heads(gb, R, N, 2 * R, R, s.packed.data());
  const T* pws = s.w.data();
  const T* pps = s.p.data();
  const T* packed = s.packed.data();
  T* gwacc = s.acc.data();
  T* colsum = s.colsum.data();
  T* gpacc = s.gp.data();
  PerHead<V, RC> acc(R);
  PerHead<V, RC> fi(R);
  PerHead<V, RC> ci(R);
  for (int64_t i = 0; i < N; ++i) {
    const T wi = pw[i];
    const V va = S::splat(T(1) - wi), vwi = S::splat(wi);
    for (int64_t r = 0; r < R; ++r) {
      acc[r] = V{};
      fi[r] = S::splat(gf[r * N + i]);
      ci[r] = S::splat(w0[r * N + i]);
    }
    V gwi{};
    for_each_chunk<T>(i, N, L0 + i * N, gL + i * N, gL0 + i * N, s.tail.data(),
                      [&](const T* l0, const T* gl, T* gl0, int64_t c, int64_t diag) {
      const V l0v = S::load(l0), pv = S::load(pps + c * VL);
      const V decay = va - S::load(pws + c * VL);
      V lv = decay * l0v + vwi * pv;
      V g = S::load(gl);
      const T* pk = packed + c * 2 * R * VL;
      for (int64_t r = 0; r < R; ++r)
        g += fi[r] * S::load(pk + r * VL) + ci[r] * S::load(pk + (R + r) * VL);
      if (diag >= 0) {
        lv[diag] = T(0);
        g[diag] = T(0);
      }
      T* ga = gwacc + c * R * VL;
      for (int64_t r = 0; r < R; ++r) {
        acc[r] += S::load(pk + (R + r) * VL) * lv;
        S::store(ga + r * VL, S::load(ga + r * VL) + fi[r] * lv);
      }
      S::store(gl0, decay * g);
      gwi += g * (pv - l0v);
      S::store(colsum + c * VL, S::load(colsum + c * VL) + g * l0v);
      S::store(gpacc + c * VL, S::load(gpacc + c * VL) + g * vwi);
    });
    for (int64_t r = 0; r < R; ++r) gw0[r * N + i] += S::sum(acc[r]);
    gww[i] += S::sum(gwi);
  }
  for (int64_t r = 0; r < R; ++r)
    for (int64_t n = 0; n < N; ++n) gw0[r * N + n] += gwacc[(n / VL) * R * VL + r * VL + n % VL];
  for (int64_t n = 0; n < N; ++n) {
    gww[n] -= colsum[n];
    gp0[n] += gpacc[n];
  }
}

// R as a compile-time constant for the usual head counts (T in scope).
#define KGDNC_WITH_HEADS(R, FN, ...)                       \
  switch (R) {                                              \
    case 1: FN<T, 1>(__VA_ARGS__); break;                   \
    case 2: FN<T, 2>(__VA_ARGS__); break;                   \
    case 4: FN<T, 4>(__VA_ARGS__); break;                   \
    default: FN<T, 0>(__VA_ARGS__); break;                  \
  }

// ------------------------------------------------------------------ options

struct Options {
  bool masking, dealloc, sharpness, threshold;
  double floor, eps;
};

// ----------------------------------------------------------------- forward

std::vector<Tensor> access_forward(const Tensor& xi_in, const Tensor& memory_in,
                                   const Tensor& read_weights_in, const Tensor& write_weights_in,
                                   const Tensor& usage_in, const Tensor& precedence_in,
                                   const Tensor& links_in, const std::optional<Tensor>& index_in,
                                   bool key_masking, double key_mask_floor,
                                   bool deallocation_erase, bool link_sharpness,
                                   bool sparse_threshold, double epsilon) {
  TORCH_CHECK(xi_in.device().is_cpu(), "kgdnc fused access step: CPU tensors only");
  const Tensor xi = xi_in.contiguous();
  const Tensor M0 = memory_in.contiguous();
  const Tensor wr0 = read_weights_in.contiguous();
  const Tensor ww0 = write_weights_in.contiguous();
  const Tensor u0 = usage_in.contiguous();
  const Tensor p0 = precedence_in.contiguous();
  const Tensor links0 = links_in.contiguous();
  const bool sparse = index_in.has_value() && index_in->defined();
  const int64_t B = M0.size(0), N = M0.size(1), W = M0.size(2), R = wr0.size(1);
  const int64_t K = sparse ? links0.size(2) : 0;
  const Layout lay(R, W, key_masking, link_sharpness);
  TORCH_CHECK(xi.size(1) == lay.S, "kgdnc fused access step: interface width ", xi.size(1),
              " != ", lay.S);
  Tensor idx0;
  if (sparse) idx0 = index_in->contiguous();
  auto opt = M0.options();
  Tensor M = pooled_empty({B, N, W}, opt);
  Tensor wr = pooled_empty({B, R, N}, opt);
  Tensor ww = pooled_empty({B, N}, opt);
  Tensor u = pooled_empty({B, N}, opt);
  Tensor p = pooled_empty({B, N}, opt);
  Tensor rv = pooled_empty({B, R, W}, opt);
  Tensor psi = pooled_empty({B, N}, opt);
  Tensor uc = pooled_empty({B, N}, opt);
  Tensor alloc = pooled_empty({B, N}, opt);
  Tensor cw = pooled_empty({B, N}, opt);
  Tensor cr = pooled_empty({B, R, N}, opt);
  Tensor fwd = pooled_zeros({B, R, N}, opt);
  Tensor bwd = pooled_zeros({B, R, N}, opt);
  Tensor fwd_s = link_sharpness ? pooled_empty({B, R, N}, opt) : fwd;
  Tensor bwd_s = link_sharpness ? pooled_empty({B, R, N}, opt) : bwd;
  Tensor links = sparse ? pooled_empty({B, N, K}, opt) : pooled_empty({B, N, N}, opt);
  Tensor index = sparse ? pooled_empty({B, N, K}, idx0.options()) : Tensor();
  Tensor rows, cols, keep, phi;

  auto body = [&](auto tag) {
    using T = decltype(tag);
    const T eps = static_cast<T>(epsilon);
    const T floor = static_cast<T>(key_mask_floor);
    const T* pxi = xi.data_ptr<T>();
    const T* pM0 = M0.data_ptr<T>();
    const T* pwr0 = wr0.data_ptr<T>();
    const T* pww0 = ww0.data_ptr<T>();
    const T* pu0 = u0.data_ptr<T>();
    const T* pp0 = p0.data_ptr<T>();

    // phase 1: retention ψ_t, usage u_t, clamped usage for the free list
    at::parallel_for(0, B, 1, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        const T* x = pxi + b * lay.S;
        const T* w0 = pwr0 + b * R * N;
        T* ps = psi.data_ptr<T>() + b * N;
        T* pu = u.data_ptr<T>() + b * N;
        T* puc = uc.data_ptr<T>() + b * N;
        std::vector<T> f(R);
        for (int64_t r = 0; r < R; ++r) f[r] = sigmoid(x[lay.gates + r]);
        for (int64_t n = 0; n < N; ++n) {
          T prod = T(1) - f[0] * w0[n];
          for (int64_t r = 1; r < R; ++r) prod *= T(1) - f[r] * w0[r * N + n];
          ps[n] = prod;
          T a = pu0[b * N + n], c = pww0[b * N + n];
          pu[n] = (a + c - a * c) * prod;
          puc[n] = std::min(std::max(pu[n], eps), T(1));
        }
      }
    });
    // the free list φ: the same sort as the eager path (same order on ties)
    phi = pooled_empty({B, N}, opt.dtype(at::kLong));
    {
      Tensor sorted_values = pooled_empty({B, N}, opt);
      at::sort_out(sorted_values, phi, uc, -1);
    }
    const int64_t* pphi = phi.data_ptr<int64_t>();

    // phase 2: allocation, write content, write weighting, erase/write,
    // precedence, dense links with the directional weightings
    at::parallel_for(0, B, 1, [&](int64_t begin, int64_t end) {
      Squashed<T> sq;
      std::vector<T> scratch(N);
      DenseScratch<T> dense;
      for (int64_t b = begin; b < end; ++b) {
        sq.fill(pxi + b * lay.S, lay, floor);
        const T* m0 = pM0 + b * N * W;
        const T* puc = uc.data_ptr<T>() + b * N;
        const int64_t* ph = pphi + b * N;
        T* pa = alloc.data_ptr<T>() + b * N;
        T excl = T(1);
        for (int64_t j = 0; j < N; ++j) {
          T s = puc[ph[j]];
          pa[ph[j]] = (T(1) - s) * excl;
          excl *= s;
        }
        T* pcw = cw.data_ptr<T>() + b * N;
        content_forward(m0, N, W, sq.kw, sq.bw1[0], key_masking ? sq.mw.data() : nullptr, eps,
                        pcw, scratch.data());
        T* pw = ww.data_ptr<T>() + b * N;
        T sumw = 0;
        for (int64_t n = 0; n < N; ++n) {
          T start = pcw[n], stop = pa[n];
          // torch.lerp(start, end, weight)
          T mix = sq.ga < T(0.5) ? start + sq.ga * (stop - start)
                                 : stop - (stop - start) * (T(1) - sq.ga);
          pw[n] = mix * sq.gw;
          sumw += pw[n];
        }
        // M_t = M'_{t-1} ∘ (1 − w eᵀ) + w vᵀ, M' = M_{t-1} ∘ ψ with deallocation_erase
        T* m = M.data_ptr<T>() + b * N * W;
        const T* ps = psi.data_ptr<T>() + b * N;
        for (int64_t n = 0; n < N; ++n) {
          const T wn = pw[n];
          const T keep_row = deallocation_erase ? ps[n] : T(1);  // × 1 is exact
          const T* __restrict__ m0row = m0 + n * W;
          T* __restrict__ mrow = m + n * W;
          const T* __restrict__ er = sq.erase.data();
          const T* __restrict__ vv = sq.wvec;
#pragma omp simd
          for (int64_t w = 0; w < W; ++w)
            mrow[w] = (-wn * er[w] + T(1)) * (m0row[w] * keep_row) + wn * vv[w];
        }
        const T* pprev = pp0 + b * N;
        T* pp = p.data_ptr<T>() + b * N;
        for (int64_t n = 0; n < N; ++n) pp[n] = pw[n] + (T(1) - sumw) * pprev[n];
        if (!sparse) {
          KGDNC_WITH_HEADS(R, dense_links_forward, links0.data_ptr<T>() + b * N * N,
                           links.data_ptr<T>() + b * N * N, pw, pprev, pwr0 + b * R * N, N, R,
                           fwd.data_ptr<T>() + b * R * N, bwd.data_ptr<T>() + b * R * N, dense);
        }
      }
    });

    if (sparse) {
      // the K rows written and the K columns preceding (as addressing.sparse_links)
      rows = pooled_empty({B, K}, opt.dtype(at::kLong));
      cols = pooled_empty({B, K}, opt.dtype(at::kLong));
      {
        Tensor values = pooled_empty({B, K}, opt);
        at::topk_out(values, rows, ww, K, -1);
        at::topk_out(values, cols, p0, K, -1);
      }
      const int64_t* prows = rows.data_ptr<int64_t>();
      const int64_t* pcols = cols.data_ptr<int64_t>();
      Tensor cand_val = at::empty({B, K, 2 * K}, opt);
      Tensor cand_idx = at::empty({B, K, 2 * K}, idx0.options());
      Tensor score = at::empty({B, K, 2 * K}, opt);
      const int64_t* pidx0 = idx0.data_ptr<int64_t>();
      const T* pv0 = links0.data_ptr<T>();
      at::parallel_for(0, B, 1, [&](int64_t begin, int64_t end) {
        std::vector<T> what(N), phat(N), wtop(K), ptop(K);
        for (int64_t b = begin; b < end; ++b) {
          const T* pw = ww.data_ptr<T>() + b * N;
          const T* pprev = pp0 + b * N;
          const int64_t* rw = prows + b * K;
          const int64_t* cl = pcols + b * K;
          T sw = 0, sp = 0;
          for (int64_t q = 0; q < K; ++q) {
            wtop[q] = pw[rw[q]];
            ptop[q] = pprev[cl[q]];
            sw += wtop[q];
            sp += ptop[q];
          }
          if (sparse_threshold) {
            for (int64_t q = 0; q < K; ++q) {
              wtop[q] = wtop[q] / (sw + eps);
              ptop[q] = ptop[q] / (sp + eps);
            }
          }
          std::fill(what.begin(), what.end(), T(0));
          std::fill(phat.begin(), phat.end(), T(0));
          for (int64_t q = 0; q < K; ++q) {
            what[rw[q]] = wtop[q];
            phat[cl[q]] = ptop[q];
          }
          const T* v0 = pv0 + b * N * K;
          const int64_t* i0 = pidx0 + b * N * K;
          T* v = links.data_ptr<T>() + b * N * K;
          int64_t* ix = index.data_ptr<int64_t>() + b * N * K;
          for (int64_t i = 0; i < N; ++i) {
            const T a = T(1) - what[i];
            for (int64_t k = 0; k < K; ++k) {
              v[i * K + k] = v0[i * K + k] * (a - what[i0[i * K + k]]);
              ix[i * K + k] = i0[i * K + k];
            }
          }
          T* cv = cand_val.data_ptr<T>() + b * K * 2 * K;
          int64_t* ci = cand_idx.data_ptr<int64_t>() + b * K * 2 * K;
          T* sc = score.data_ptr<T>() + b * K * 2 * K;
          for (int64_t q = 0; q < K; ++q) {
            const int64_t r = rw[q];
            T* cvq = cv + q * 2 * K;
            int64_t* ciq = ci + q * 2 * K;
            T* scq = sc + q * 2 * K;
            for (int64_t c = 0; c < K; ++c) {
              const int64_t j = i0[r * K + c];
              ciq[c] = j;
              cvq[c] = v[r * K + c] + wtop[q] * phat[j];
            }
            for (int64_t c = 0; c < K; ++c) {
              ciq[K + c] = cl[c];
              cvq[K + c] = wtop[q] * ptop[c];
            }
            for (int64_t c = 0; c < 2 * K; ++c)
              if (ciq[c] == r) cvq[c] = T(0);
            for (int64_t c = 0; c < 2 * K; ++c) {
              bool held = false;
              if (c >= K)
                for (int64_t a = 0; a < K; ++a) held = held || (ciq[a] == ciq[c]);
              scq[c] = cvq[c] - T(2) * (held ? T(1) : T(0));
            }
          }
        }
      });
      keep = pooled_empty({B, K, K}, opt.dtype(at::kLong));
      {
        Tensor values = pooled_empty({B, K, K}, opt);
        at::topk_out(values, keep, score, K, -1);
      }
      const int64_t* pkeep = keep.data_ptr<int64_t>();
      at::parallel_for(0, B, 1, [&](int64_t begin, int64_t end) {
        for (int64_t b = begin; b < end; ++b) {
          T* v = links.data_ptr<T>() + b * N * K;
          int64_t* ix = index.data_ptr<int64_t>() + b * N * K;
          const int64_t* rw = prows + b * K;
          const T* cv = cand_val.data_ptr<T>() + b * K * 2 * K;
          const int64_t* ci = cand_idx.data_ptr<int64_t>() + b * K * 2 * K;
          const int64_t* kp = pkeep + b * K * K;
          for (int64_t q = 0; q < K; ++q) {
            const int64_t r = rw[q];
            for (int64_t k = 0; k < K; ++k) {
              const int64_t c = kp[q * K + k];
              v[r * K + k] = cv[q * 2 * K + c];
              ix[r * K + k] = ci[q * 2 * K + c];
            }
          }
          if (sparse_threshold) {
            const T cut = T(1) / T(K);
            for (int64_t e = 0; e < N * K; ++e)
              if (v[e] < cut) v[e] = T(0);
          }
          // f[r,i] = Σ_k L̂[i,k] w[r, idx[i,k]];  b[r, idx[i,k]] += L̂[i,k] w[r,i]
          const T* w0 = pwr0 + b * R * N;
          T* f = fwd.data_ptr<T>() + b * R * N;
          T* bk = bwd.data_ptr<T>() + b * R * N;
          for (int64_t r = 0; r < R; ++r) {
            const T* wrow = w0 + r * N;
            for (int64_t i = 0; i < N; ++i) {
              T acc = 0;
              const T wi = wrow[i];
              for (int64_t k = 0; k < K; ++k) {
                const int64_t j = ix[i * K + k];
                acc += wrow[j] * v[i * K + k];
                bk[r * N + j] += v[i * K + k] * wi;
              }
              f[r * N + i] = acc;
            }
          }
        }
      });
    }

    // phase 3: sharpening, read content on M_t, read weightings, reads
    at::parallel_for(0, B, 1, [&](int64_t begin, int64_t end) {
      Squashed<T> sq;
      std::vector<T> scratch(N);
      for (int64_t b = begin; b < end; ++b) {
        sq.fill(pxi + b * lay.S, lay, floor);
        const T* m = M.data_ptr<T>() + b * N * W;
        const T* f = fwd.data_ptr<T>() + b * R * N;
        const T* bk = bwd.data_ptr<T>() + b * R * N;
        T* fs = fwd_s.data_ptr<T>() + b * R * N;
        T* bs = bwd_s.data_ptr<T>() + b * R * N;
        T* c = cr.data_ptr<T>() + b * R * N;
        T* w = wr.data_ptr<T>() + b * R * N;
        T* out = rv.data_ptr<T>() + b * R * W;
        if (!key_masking) content_forward_heads(m, N, W, sq.kr, sq.br.data(), R, eps, c);
        for (int64_t r = 0; r < R; ++r) {
          if (link_sharpness) {
            sharpen_forward(f + r * N, N, sq.sf[r], fs + r * N);
            sharpen_forward(bk + r * N, N, sq.sb[r], bs + r * N);
          }
          if (key_masking)
            content_forward(m, N, W, sq.kr + r * W, sq.br[r], sq.mr.data() + r * W, eps,
                            c + r * N, scratch.data());
          const T p0m = sq.modes[3 * r], p1m = sq.modes[3 * r + 1], p2m = sq.modes[3 * r + 2];
          T* wrow = w + r * N;
          for (int64_t n = 0; n < N; ++n)
            wrow[n] = bs[r * N + n] * p0m + c[r * N + n] * p1m + fs[r * N + n] * p2m;
          T* o = out + r * W;
          for (int64_t x = 0; x < W; ++x) o[x] = T(0);
          for (int64_t n = 0; n < N; ++n) {
            const T wn = wrow[n];
            const T* mrow = m + n * W;
#pragma omp simd
            for (int64_t x = 0; x < W; ++x) o[x] += wn * mrow[x];
          }
        }
      }
    });
  };
  AT_DISPATCH_FLOATING_TYPES(M0.scalar_type(), "kgdnc_access_forward",
                             [&] { body(scalar_t(0)); });

  if (!sparse) {
    index = at::empty({0}, M0.options().dtype(at::kLong));
    rows = cols = keep = index;
  }
  return {M, wr, ww, u, p, links, index, rv, psi, phi, alloc, cw, cr, fwd, bwd, fwd_s, bwd_s,
          rows, cols, keep};
}

// ---------------------------------------------------------------- backward

// Gradients of access_forward's outputs (M, w^r, w^w, u, p, links, r) to its
// inputs (ξ, M_{t-1}, w^r_{t-1}, w^w_{t-1}, u_{t-1}, p_{t-1}, L_{t-1}).
std::vector<Tensor> access_backward_impl(
    // gradients of the outputs (zeros where an output was unused)
    const Tensor& gM_in, const Tensor& gwr_in, const Tensor& gww_in, const Tensor& gu_in,
    const Tensor& gp_in, const Tensor& glinks_in, const Tensor& grv_in,
    // inputs of the forward
    const Tensor& xi_in, const Tensor& M0_in, const Tensor& wr0_in, const Tensor& ww0_in,
    const Tensor& u0_in, const Tensor& p0_in, const Tensor& links0_in,
    const std::optional<Tensor>& index0_in,
    // outputs and intermediates of the forward
    const Tensor& M_in, const Tensor& wr_in, const Tensor& ww_in, const Tensor& links_in,
    const std::optional<Tensor>& index_in, const Tensor& psi_in, const Tensor& phi_in,
    const Tensor& alloc_in, const Tensor& cw_in, const Tensor& cr_in, const Tensor& fwd_in,
    const Tensor& bwd_in, const Tensor& fwd_s_in, const Tensor& bwd_s_in,
    const std::optional<Tensor>& rows_in, const std::optional<Tensor>& cols_in,
    const std::optional<Tensor>& keep_in, bool key_masking, double key_mask_floor,
    bool deallocation_erase, bool link_sharpness, bool sparse_threshold, double epsilon,
    const Tensor& glinks_out) {
  const Tensor gM = gM_in.contiguous(), gwr = gwr_in.contiguous(), gww = gww_in.contiguous();
  const Tensor gu = gu_in.contiguous(), gp = gp_in.contiguous(), gL = glinks_in.contiguous();
  const Tensor grv = grv_in.contiguous();
  const Tensor xi = xi_in.contiguous(), M0 = M0_in.contiguous(), wr0 = wr0_in.contiguous();
  const Tensor ww0 = ww0_in.contiguous(), u0 = u0_in.contiguous(), p0 = p0_in.contiguous();
  const Tensor L0 = links0_in.contiguous();
  const Tensor M = M_in.contiguous(), wr = wr_in.contiguous(), ww = ww_in.contiguous();
  const Tensor L = links_in.contiguous();
  const bool sparse = index_in.has_value() && index_in->defined() && index_in->numel() > 0;
  const int64_t B = M0.size(0), N = M0.size(1), W = M0.size(2), R = wr0.size(1);
  const int64_t K = sparse ? L.size(2) : 0;
  const Layout lay(R, W, key_masking, link_sharpness);
  auto opt = M0.options();
  Tensor gxi = pooled_zeros({B, lay.S}, opt);
  Tensor gM0 = pooled_empty({B, N, W}, opt);
  Tensor gwr0 = pooled_zeros({B, R, N}, opt);
  Tensor gww0 = pooled_empty({B, N}, opt);
  Tensor gu0 = pooled_empty({B, N}, opt);
  Tensor gp0 = pooled_zeros({B, N}, opt);
  Tensor gL0 = sparse ? pooled_empty({B, N, K}, opt)
                      : glinks_out.defined() ? glinks_out : pooled_empty({B, N, N}, opt);
  Tensor idx0, idx, rows, cols, keep;
  if (sparse) {
    idx0 = index0_in->contiguous();
    idx = index_in->contiguous();
    rows = rows_in->contiguous();
    cols = cols_in->contiguous();
    keep = keep_in->contiguous();
  }
  const Tensor psi = psi_in.contiguous(), phi = phi_in.contiguous();
  const Tensor alloc = alloc_in.contiguous(), cw = cw_in.contiguous(), cr = cr_in.contiguous();
  const Tensor fwd = fwd_in.contiguous(), bwd = bwd_in.contiguous();
  const Tensor fwd_s = fwd_s_in.contiguous(), bwd_s = bwd_s_in.contiguous();

  auto body = [&](auto tag) {
    using T = decltype(tag);
    const T eps = static_cast<T>(epsilon);
    const T floor = static_cast<T>(key_mask_floor);
    at::parallel_for(0, B, 1, [&](int64_t begin, int64_t end) {
      Squashed<T> sq;
      std::vector<T> gMacc(N * W), gwracc(R * N), gwwacc(N), guacc(N), gpsi(N);
      std::vector<T> gf(R * N), gb(R * N), gfr(R * N), gbr(R * N), gcr(R * N), scratch;
      std::vector<T> ga_alloc(N), gcw(N), excl(N), su(N);
      DenseScratch<T> dense;
      std::vector<T> gmr, gmw, gbetas(R);
      for (int64_t b = begin; b < end; ++b) {
        const T* x = xi.data_ptr<T>() + b * lay.S;
        sq.fill(x, lay, floor);
        T* gx = gxi.data_ptr<T>() + b * lay.S;
        const T* m0 = M0.data_ptr<T>() + b * N * W;
        const T* m = M.data_ptr<T>() + b * N * W;
        const T* w0 = wr0.data_ptr<T>() + b * R * N;
        const T* w = wr.data_ptr<T>() + b * R * N;
        const T* pw = ww.data_ptr<T>() + b * N;
        const T* pw0 = ww0.data_ptr<T>() + b * N;
        const T* pu0 = u0.data_ptr<T>() + b * N;
        const T* pp0 = p0.data_ptr<T>() + b * N;
        const T* ps = psi.data_ptr<T>() + b * N;
        std::copy(gM.data_ptr<T>() + b * N * W, gM.data_ptr<T>() + (b + 1) * N * W,
                  gMacc.begin());
        std::copy(gwr.data_ptr<T>() + b * R * N, gwr.data_ptr<T>() + (b + 1) * R * N,
                  gwracc.begin());
        std::copy(gww.data_ptr<T>() + b * N, gww.data_ptr<T>() + (b + 1) * N, gwwacc.begin());
        std::copy(gu.data_ptr<T>() + b * N, gu.data_ptr<T>() + (b + 1) * N, guacc.begin());
        std::fill(gpsi.begin(), gpsi.end(), T(0));
        T* gwr0b = gwr0.data_ptr<T>() + b * R * N;
        T* gp0b = gp0.data_ptr<T>() + b * N;
        const T* gpb = gp.data_ptr<T>() + b * N;
        if (key_masking) {
          gmr.assign(R * W, T(0));
          gmw.assign(W, T(0));
        }

        // reads r = w^r M_t: per row of M_t, all heads from one load of it
        const T* gr = grv.data_ptr<T>() + b * R * W;
        for (int64_t r0 = 0; r0 < R; r0 += kHeadGroup) {
          using S = Simd<T>;
          using V = typename S::vec;
          constexpr int64_t VL = S::lanes;
          const int64_t G = std::min(kHeadGroup, R - r0);
          const T* g = gr + r0 * W;
          for (int64_t n = 0; n < N; ++n) {
            const T* mrow = m + n * W;
            T* gmrow = gMacc.data() + n * W;
            V vacc[kHeadGroup] = {}, vwn[kHeadGroup];
            for (int64_t h = 0; h < G; ++h) vwn[h] = S::splat(w[(r0 + h) * N + n]);
            int64_t cc = 0;
            for (; cc + VL <= W; cc += VL) {
              const V mv = S::load(mrow + cc);
              V gm = S::load(gmrow + cc);
              for (int64_t h = 0; h < G; ++h) {
                const V gv = S::load(g + h * W + cc);
                vacc[h] += gv * mv;
                gm += vwn[h] * gv;
              }
              S::store(gmrow + cc, gm);
            }
            for (int64_t h = 0; h < G; ++h) {
              T acc = S::sum(vacc[h]);
              const T wn = w[(r0 + h) * N + n];
              for (int64_t k = cc; k < W; ++k) {
                acc += g[h * W + k] * mrow[k];
                gmrow[k] += wn * g[h * W + k];
              }
              gwracc[(r0 + h) * N + n] += acc;
            }
          }
        }
        // read weighting w^r = π0 b + π1 c^r + π2 f
        const T* fs = fwd_s.data_ptr<T>() + b * R * N;
        const T* bs = bwd_s.data_ptr<T>() + b * R * N;
        const T* c = cr.data_ptr<T>() + b * R * N;
        for (int64_t r = 0; r < R; ++r) {
          const T* pi = sq.modes.data() + 3 * r;
          T g0 = 0, g1 = 0, g2 = 0;
          for (int64_t n = 0; n < N; ++n) {
            const T g = gwracc[r * N + n];
            gb[r * N + n] = g * pi[0];
            gcr[r * N + n] = g * pi[1];
            gf[r * N + n] = g * pi[2];
            g0 += g * bs[r * N + n];
            g1 += g * c[r * N + n];
            g2 += g * fs[r * N + n];
          }
          const T dot = g0 * pi[0] + g1 * pi[1] + g2 * pi[2];
          gx[lay.modes + 3 * r] += pi[0] * (g0 - dot);
          gx[lay.modes + 3 * r + 1] += pi[1] * (g1 - dot);
          gx[lay.modes + 3 * r + 2] += pi[2] * (g2 - dot);
        }
        // read content on M_t
        if (key_masking) {
          for (int64_t r = 0; r < R; ++r) {
            T gbeta = 0;
            content_backward(m, N, W, sq.kr + r * W, sq.br[r], sq.mr.data() + r * W, eps,
                             c + r * N, gcr.data() + r * N, gMacc.data(), gx + lay.kr + r * W,
                             gbeta, gmr.data() + r * W, scratch);
            gx[lay.br + r] += gbeta * oneplus_grad(x[lay.br + r]);
          }
        } else {
          std::fill(gbetas.begin(), gbetas.end(), T(0));
          content_backward_heads(m, N, W, sq.kr, sq.br.data(), R, eps, c, gcr.data(),
                                 gMacc.data(), gx + lay.kr, gbetas.data(), scratch);
          for (int64_t r = 0; r < R; ++r)
            gx[lay.br + r] += gbetas[r] * oneplus_grad(x[lay.br + r]);
        }
        // link sharpness
        const T* f = fwd.data_ptr<T>() + b * R * N;
        const T* bk = bwd.data_ptr<T>() + b * R * N;
        if (link_sharpness) {
          std::fill(gfr.begin(), gfr.end(), T(0));
          std::fill(gbr.begin(), gbr.end(), T(0));
          for (int64_t r = 0; r < R; ++r) {
            T gsf = 0, gsb = 0;
            sharpen_backward(f + r * N, N, sq.sf[r], gf.data() + r * N, gfr.data() + r * N, gsf);
            sharpen_backward(bk + r * N, N, sq.sb[r], gb.data() + r * N, gbr.data() + r * N,
                             gsb);
            gx[lay.sf + r] += gsf * oneplus_grad(x[lay.sf + r]);
            gx[lay.sb + r] += gsb * oneplus_grad(x[lay.sb + r]);
          }
        } else {
          gfr = gf;
          gbr = gb;
        }

        // links and directional weightings
        if (!sparse) {
          KGDNC_WITH_HEADS(R, dense_links_backward, L0.data_ptr<T>() + b * N * N,
                           gL.data_ptr<T>() + b * N * N, gL0.data_ptr<T>() + b * N * N, pw, pp0,
                           w0, gfr.data(), gbr.data(), N, R, gwr0b, gwwacc.data(), gp0b, dense);
        } else {
          const T* v0 = L0.data_ptr<T>() + b * N * K;
          const int64_t* i0 = idx0.data_ptr<int64_t>() + b * N * K;
          const T* v = L.data_ptr<T>() + b * N * K;
          const int64_t* ix = idx.data_ptr<int64_t>() + b * N * K;
          const int64_t* rw = rows.data_ptr<int64_t>() + b * K;
          const int64_t* cl = cols.data_ptr<int64_t>() + b * K;
          const int64_t* kp = keep.data_ptr<int64_t>() + b * K * K;
          T* gv0 = gL0.data_ptr<T>() + b * N * K;
          // gradient of the new values: incoming + directional weightings
          std::vector<T> gv(gL.data_ptr<T>() + b * N * K, gL.data_ptr<T>() + (b + 1) * N * K);
          for (int64_t r = 0; r < R; ++r) {
            const T* wrow = w0 + r * N;
            const T* gfrow = gfr.data() + r * N;
            const T* gbrow = gbr.data() + r * N;
            T* gw0row = gwr0b + r * N;
            for (int64_t i = 0; i < N; ++i) {
              T acc = 0;
              for (int64_t k = 0; k < K; ++k) {
                const int64_t j = ix[i * K + k];
                const T val = v[i * K + k];
                gv[i * K + k] += gfrow[i] * wrow[j] + gbrow[j] * wrow[i];
                gw0row[j] += gfrow[i] * val;
                acc += gbrow[j] * val;
              }
              gw0row[i] += acc;
            }
          }
          if (sparse_threshold) {
            for (int64_t e = 0; e < N * K; ++e)
              if (v[e] == T(0)) gv[e] = T(0);
          }
          // recompute ŵ, p̂ (as the forward)
          std::vector<T> wraw(K), praw(K), wt(K), pt(K), what(N, T(0)), phat(N, T(0));
          T sw = 0, sp = 0;
          for (int64_t q = 0; q < K; ++q) {
            wraw[q] = pw[rw[q]];
            praw[q] = pp0[cl[q]];
            sw += wraw[q];
            sp += praw[q];
          }
          for (int64_t q = 0; q < K; ++q) {
            wt[q] = sparse_threshold ? wraw[q] / (sw + eps) : wraw[q];
            pt[q] = sparse_threshold ? praw[q] / (sp + eps) : praw[q];
            what[rw[q]] = wt[q];
            phat[cl[q]] = pt[q];
          }
          std::vector<T> gdec(gv);  // rows not written: L̂_t = decayed
          std::vector<T> gwt(K, T(0)), gpt(K, T(0)), gwhat(N, T(0)), gphat(N, T(0));
          std::vector<T> gcand(2 * K);
          for (int64_t q = 0; q < K; ++q) {
            const int64_t r = rw[q];
            std::fill(gcand.begin(), gcand.end(), T(0));
            for (int64_t k = 0; k < K; ++k) gcand[kp[q * K + k]] += gv[r * K + k];
            for (int64_t k = 0; k < K; ++k) gdec[r * K + k] = T(0);
            for (int64_t cc = 0; cc < K; ++cc) {  // old columns of row r
              const int64_t j = i0[r * K + cc];
              if (j == r) continue;  // the diagonal is masked to 0
              gdec[r * K + cc] += gcand[cc];
              gwt[q] += gcand[cc] * phat[j];
              gphat[j] += gcand[cc] * wt[q];
            }
            for (int64_t cc = 0; cc < K; ++cc) {  // new columns p̂'s top K
              if (cl[cc] == r) continue;
              gwt[q] += gcand[K + cc] * pt[cc];
              gpt[cc] += gcand[K + cc] * wt[q];
            }
          }
          // decayed[i,k] = L̂_{t-1}[i,k] (1 − ŵ[i] − ŵ[idx[i,k]])
          for (int64_t i = 0; i < N; ++i) {
            const T a = T(1) - what[i];
            T acc = 0;
            for (int64_t k = 0; k < K; ++k) {
              const int64_t j = i0[i * K + k];
              const T g = gdec[i * K + k];
              gv0[i * K + k] = g * (a - what[j]);
              acc += g * v0[i * K + k];
              gwhat[j] -= g * v0[i * K + k];
            }
            gwhat[i] -= acc;
          }
          for (int64_t q = 0; q < K; ++q) {
            gwt[q] += gwhat[rw[q]];
            gpt[q] += gphat[cl[q]];
          }
          if (sparse_threshold) {
            T dw = 0, dp = 0;
            const T zw = sw + eps, zp = sp + eps;
            for (int64_t q = 0; q < K; ++q) {
              dw += gwt[q] * wraw[q];
              dp += gpt[q] * praw[q];
            }
            for (int64_t q = 0; q < K; ++q) {
              gwwacc[rw[q]] += gwt[q] / zw - dw / (zw * zw);
              gp0b[cl[q]] += gpt[q] / zp - dp / (zp * zp);
            }
          } else {
            for (int64_t q = 0; q < K; ++q) {
              gwwacc[rw[q]] += gwt[q];
              gp0b[cl[q]] += gpt[q];
            }
          }
        }

        // precedence p_t = w + (1 − Σw) p_{t-1}
        T sumw = 0, gpp = 0;
        for (int64_t n = 0; n < N; ++n) {
          sumw += pw[n];
          gpp += gpb[n] * pp0[n];
        }
        for (int64_t n = 0; n < N; ++n) {
          gp0b[n] += (T(1) - sumw) * gpb[n];
          gwwacc[n] += gpb[n] - gpp;
        }

        // erase/write M_t = M' ∘ (1 − w eᵀ) + w vᵀ
        T* gm0 = gM0.data_ptr<T>() + b * N * W;
        std::vector<T> ge(W, T(0)), gv(W, T(0));
        {
          T* __restrict__ pge = ge.data();
          T* __restrict__ pgv = gv.data();
          const T* __restrict__ er = sq.erase.data();
          const T* __restrict__ vv = sq.wvec;
          for (int64_t n = 0; n < N; ++n) {
            const T wn = pw[n];
            const T keep_row = deallocation_erase ? ps[n] : T(1);  // × 1 is exact
            const T* __restrict__ gmrow = gMacc.data() + n * W;
            const T* __restrict__ m0row = m0 + n * W;
            T* __restrict__ gm0row = gm0 + n * W;
            T gwn = 0, gpsin = 0;
#pragma omp simd reduction(+ : gwn, gpsin)
            for (int64_t cc = 0; cc < W; ++cc) {
              const T prev = m0row[cc] * keep_row;
              const T g = gmrow[cc];
              const T gprev = g * (-wn * er[cc] + T(1));
              gwn += g * (vv[cc] - prev * er[cc]);
              pge[cc] -= g * wn * prev;
              pgv[cc] += g * wn;
              gpsin += gprev * m0row[cc];
              gm0row[cc] = gprev * keep_row;
            }
            gwwacc[n] += gwn;
            if (deallocation_erase) gpsi[n] += gpsin;
          }
        }
        for (int64_t cc = 0; cc < W; ++cc) {
          gx[lay.erase + cc] += ge[cc] * sq.erase[cc] * (T(1) - sq.erase[cc]);
          gx[lay.wvec + cc] += gv[cc];
        }

        // write weighting w = lerp(c^w, a, g^a) · g^w
        const T* pa = alloc.data_ptr<T>() + b * N;
        const T* pcw = cw.data_ptr<T>() + b * N;
        T ggw = 0, gga = 0;
        for (int64_t n = 0; n < N; ++n) {
          const T start = pcw[n], stop = pa[n];
          const T mix = sq.ga < T(0.5) ? start + sq.ga * (stop - start)
                                       : stop - (stop - start) * (T(1) - sq.ga);
          const T g = gwwacc[n];
          ggw += g * mix;
          const T gmix = g * sq.gw;
          gcw[n] = gmix * (T(1) - sq.ga);
          ga_alloc[n] = gmix * sq.ga;
          gga += gmix * (stop - start);
        }
        gx[lay.gates + R] += gga * sq.ga * (T(1) - sq.ga);
        gx[lay.gates + R + 1] += ggw * sq.gw * (T(1) - sq.gw);
        {
          T gbeta = 0;
          content_backward(m0, N, W, sq.kw, sq.bw1[0], key_masking ? sq.mw.data() : nullptr, eps,
                           pcw, gcw.data(), gm0, gx + lay.kw, gbeta,
                           key_masking ? gmw.data() : nullptr, scratch);
          gx[lay.bw] += gbeta * oneplus_grad(x[lay.bw]);
        }

        // allocation a[φ_j] = (1 − s_j) Π_{i<j} s_i, s = clamp(u, ε, 1)[φ]
        const int64_t* ph = phi.data_ptr<int64_t>() + b * N;
        {
          // the clamped usage in sorted order
          T e = T(1);
          for (int64_t j = 0; j < N; ++j) {
            // u_t recomputed from the forward's inputs
            const int64_t n = ph[j];
            const T un = (pu0[n] + pw0[n] - pu0[n] * pw0[n]) * ps[n];
            su[j] = std::min(std::max(un, eps), T(1));
            excl[j] = e;
            e *= su[j];
          }
          T S = 0;  // Σ_{m>j} g_excl_m Π_{j<k<m} s_k
          for (int64_t j = N - 1; j >= 0; --j) {
            const int64_t n = ph[j];
            const T gaj = ga_alloc[n];
            T gs = -gaj * excl[j] + excl[j] * S;
            const T un = (pu0[n] + pw0[n] - pu0[n] * pw0[n]) * ps[n];
            if (un >= eps && un <= T(1)) guacc[n] += gs;
            S = gaj * (T(1) - su[j]) + su[j] * S;
          }
        }
        // usage u_t = (u + w − u w) ψ
        T* gu0b = gu0.data_ptr<T>() + b * N;
        T* gww0b = gww0.data_ptr<T>() + b * N;
        for (int64_t n = 0; n < N; ++n) {
          const T g = guacc[n];
          gu0b[n] = g * ps[n] * (T(1) - pw0[n]);
          gww0b[n] = g * ps[n] * (T(1) - pu0[n]);
          gpsi[n] += g * (pu0[n] + pw0[n] - pu0[n] * pw0[n]);
        }
        // retention ψ = Π_r (1 − f_r w^r_{t-1}[r])
        std::vector<T> gfree(R, T(0));
        for (int64_t n = 0; n < N; ++n) {
          const T g = gpsi[n];
          if (g == T(0)) continue;
          for (int64_t r = 0; r < R; ++r) {
            T others = T(1);
            for (int64_t q = 0; q < R; ++q)
              if (q != r) others *= T(1) - sq.free[q] * w0[q * N + n];
            gfree[r] -= g * w0[r * N + n] * others;
            gwr0b[r * N + n] -= g * sq.free[r] * others;
          }
        }
        for (int64_t r = 0; r < R; ++r)
          gx[lay.gates + r] += gfree[r] * sq.free[r] * (T(1) - sq.free[r]);
        if (key_masking) {
          const T scale = T(1) - floor;
          for (int64_t i = 0; i < R * W; ++i) {
            const T s = sigmoid(x[lay.mr + i]);
            gx[lay.mr + i] += gmr[i] * scale * s * (T(1) - s);
          }
          for (int64_t cc = 0; cc < W; ++cc) {
            const T s = sigmoid(x[lay.mw + cc]);
            gx[lay.mw + cc] += gmw[cc] * scale * s * (T(1) - s);
          }
        }
      }
    });
  };
  AT_DISPATCH_FLOATING_TYPES(M0.scalar_type(), "kgdnc_access_backward",
                             [&] { body(scalar_t(0)); });
  return {gxi, gM0, gwr0, gww0, gu0, gp0, gL0};
}

// The operator (no output buffer given).
std::vector<Tensor> access_backward(
    const Tensor& gM, const Tensor& gwr, const Tensor& gww, const Tensor& gu, const Tensor& gp,
    const Tensor& glinks, const Tensor& grv, const Tensor& xi, const Tensor& M0,
    const Tensor& wr0, const Tensor& ww0, const Tensor& u0, const Tensor& p0,
    const Tensor& links0, const std::optional<Tensor>& index0, const Tensor& M,
    const Tensor& wr, const Tensor& ww, const Tensor& links, const std::optional<Tensor>& index,
    const Tensor& psi, const Tensor& phi, const Tensor& alloc, const Tensor& cw,
    const Tensor& cr, const Tensor& fwd, const Tensor& bwd, const Tensor& fwd_s,
    const Tensor& bwd_s, const std::optional<Tensor>& rows, const std::optional<Tensor>& cols,
    const std::optional<Tensor>& keep, bool key_masking, double key_mask_floor,
    bool deallocation_erase, bool link_sharpness, bool sparse_threshold, double epsilon) {
  return access_backward_impl(gM, gwr, gww, gu, gp, glinks, grv, xi, M0, wr0, ww0, u0, p0,
                              links0, index0, M, wr, ww, links, index, psi, phi, alloc, cw, cr,
                              fwd, bwd, fwd_s, bwd_s, rows, cols, keep, key_masking,
                              key_mask_floor, deallocation_erase, link_sharpness,
                              sparse_threshold, epsilon, Tensor());
}

// ---------------------------------------------------------------- autograd
//
// One autograd node per step, in C++: the intermediates stay in the node (no
// Python object per tensor, no Python call in the backward pass).

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct AccessStepFunction : public torch::autograd::Function<AccessStepFunction> {
  static variable_list forward(AutogradContext* ctx, const Tensor& xi, const Tensor& memory,
                               const Tensor& read_weights, const Tensor& write_weights,
                               const Tensor& usage, const Tensor& precedence,
                               const Tensor& links, const std::optional<Tensor>& index,
                               bool key_masking, double key_mask_floor, bool deallocation_erase,
                               bool link_sharpness, bool sparse_threshold, double epsilon) {
    std::vector<Tensor> outs = access_forward(
        xi, memory, read_weights, write_weights, usage, precedence, links, index, key_masking,
        key_mask_floor, deallocation_erase, link_sharpness, sparse_threshold, epsilon);
    const bool sparse = index.has_value() && index->defined();
    ctx->saved_data["key_masking"] = key_masking;
    ctx->saved_data["key_mask_floor"] = key_mask_floor;
    ctx->saved_data["deallocation_erase"] = deallocation_erase;
    ctx->saved_data["link_sharpness"] = link_sharpness;
    ctx->saved_data["sparse_threshold"] = sparse_threshold;
    ctx->saved_data["epsilon"] = epsilon;
    ctx->saved_data["sparse"] = sparse;
    // outs: M, w^r, w^w, u, p, links, index, r, then ψ, φ, a, c^w, c^r, f, b, f_s, b_s,
    // rows, cols, keep
    ctx->save_for_backward({xi, memory, read_weights, write_weights, usage, precedence, links,
                            sparse ? *index : Tensor(), outs[0], outs[1], outs[2], outs[5],
                            outs[6], outs[8], outs[9], outs[10], outs[11], outs[12], outs[13],
                            outs[14], outs[15], outs[16], outs[17], outs[18], outs[19]});
    ctx->mark_non_differentiable({outs[6]});
    ctx->set_materialize_grads(false);  // unused outputs: zeros made below, only if needed
    outs.resize(8);
    return outs;
  }

  static variable_list backward(AutogradContext* ctx, variable_list& grads) {
    TORCH_CHECK(!at::GradMode::is_enabled(),
                "kgdnc fused access step: the backward pass is not differentiable "
                "(use DNCConfig(fused='off') for higher-order gradients)");
    const variable_list s = ctx->get_saved_variables();
    const Tensor &xi = s[0], &memory = s[1], &wr0 = s[2], &ww0 = s[3], &u0 = s[4], &p0 = s[5];
    const Tensor &links0 = s[6], &index0 = s[7], &m = s[8], &wr = s[9], &ww = s[10];
    const Tensor &links = s[11], &index = s[12];
    const bool sparse = ctx->saved_data["sparse"].toBool();
    auto grad = [&](size_t k, const Tensor& like) {
      return grads[k].defined() ? grads[k] : at::zeros_like(like);
    };
    Tensor grv = grads[7].defined() ? grads[7]
                                    : at::zeros({m.size(0), wr.size(1), m.size(2)}, m.options());
    std::optional<Tensor> none;
    // ∂L_{t-1} written over ∂L_t when nothing else holds ∂L_t (each row is read
    // before it is written): one (B, N, N) buffer less in the cache
    Tensor reuse;
    const Tensor& gl = grads[5];
    if (!sparse && gl.defined() && gl.use_count() == 1 && gl.storage().use_count() == 1 &&
        gl.is_contiguous() && gl.storage_offset() == 0 && gl.scalar_type() == links.scalar_type() &&
        gl.sizes() == links.sizes() && !gl.requires_grad())
      reuse = gl;
    std::vector<Tensor> g = access_backward_impl(
        grad(0, m), grad(1, wr), grad(2, ww), grad(3, u0), grad(4, p0), grad(5, links), grv, xi,
        memory, wr0, ww0, u0, p0, links0, sparse ? std::optional<Tensor>(index0) : none, m, wr,
        ww, links, sparse ? std::optional<Tensor>(index) : none, s[13], s[14], s[15], s[16],
        s[17], s[18], s[19], s[20], s[21], sparse ? std::optional<Tensor>(s[22]) : none,
        sparse ? std::optional<Tensor>(s[23]) : none,
        sparse ? std::optional<Tensor>(s[24]) : none, ctx->saved_data["key_masking"].toBool(),
        ctx->saved_data["key_mask_floor"].toDouble(),
        ctx->saved_data["deallocation_erase"].toBool(),
        ctx->saved_data["link_sharpness"].toBool(),
        ctx->saved_data["sparse_threshold"].toBool(), ctx->saved_data["epsilon"].toDouble(),
        reuse);
    // one entry per argument of forward: the seven tensors, then the index and the options
    g.resize(14);
    return g;
  }
};

// The step with autograd: (ξ_t, state_{t-1}) -> M, w^r, w^w, u, p, links, index, r.
std::vector<Tensor> access_step(const Tensor& xi, const Tensor& memory,
                                const Tensor& read_weights, const Tensor& write_weights,
                                const Tensor& usage, const Tensor& precedence,
                                const Tensor& links, const std::optional<Tensor>& index,
                                bool key_masking, double key_mask_floor, bool deallocation_erase,
                                bool link_sharpness, bool sparse_threshold, double epsilon) {
  const bool needs_grad =
      at::GradMode::is_enabled() &&
      (xi.requires_grad() || memory.requires_grad() || read_weights.requires_grad() ||
       write_weights.requires_grad() || usage.requires_grad() || precedence.requires_grad() ||
       links.requires_grad());
  if (!needs_grad) {
    std::vector<Tensor> outs = access_forward(
        xi, memory, read_weights, write_weights, usage, precedence, links, index, key_masking,
        key_mask_floor, deallocation_erase, link_sharpness, sparse_threshold, epsilon);
    outs.resize(8);
    return outs;
  }
  return AccessStepFunction::apply(xi, memory, read_weights, write_weights, usage, precedence,
                                   links, index, key_masking, key_mask_floor,
                                   deallocation_erase, link_sharpness, sparse_threshold,
                                   epsilon);
}

// --------------------------------------------------------------- LSTM cell
//
// The controller's LSTM cell after its matrix products, as DNC._controller_step
// computes it: from the pre-activations pre = [i, f, o, g] (B, 4H) and c_{t-1}
// (B, H): c_t = σ(f) ∘ c_{t-1} + σ(i) ∘ tanh(g), h_t = σ(o) ∘ tanh(c_t). One
// autograd node instead of a dozen small ones.

// c_t = σ(f) ∘ c_{t-1} + σ(i) ∘ tanh(g), h_t = σ(o) ∘ tanh(c_t) for B rows of
// pre = [i, f, o, g]; act keeps σ(i), σ(f), σ(o), tanh(g) for the backward
template <typename T>
void lstm_cell_rows(const T* x, const T* cp, T* a, T* ph, T* pc, int64_t B, int64_t H) {
  for (int64_t b = 0; b < B; ++b) {
    const T* xb = x + b * 4 * H;
    T* ab = a + b * 4 * H;
    for (int64_t k = 0; k < 3 * H; ++k) ab[k] = sigmoid(xb[k]);
    for (int64_t k = 3 * H; k < 4 * H; ++k) ab[k] = std::tanh(xb[k]);
    for (int64_t k = 0; k < H; ++k) {
      const T cn = ab[H + k] * cp[b * H + k] + ab[k] * ab[3 * H + k];
      pc[b * H + k] = cn;
      ph[b * H + k] = ab[2 * H + k] * std::tanh(cn);
    }
  }
}

// ∂pre and ∂c_{t-1} from ∂h_t, ∂c_t (either may be null: zero); ∂pre clamped to
// [-lim, lim] when lim ≥ 0 (the LSTM gradient clip)
template <typename T>
void lstm_cell_rows_backward(const T* a, const T* cp, const T* pc, const T* pgh, const T* pgc,
                             T* gp, T* gc0, int64_t B, int64_t H, T lim) {
  auto cl = [lim](T v) { return lim >= T(0) ? std::min(std::max(v, -lim), lim) : v; };
  for (int64_t b = 0; b < B; ++b) {
    const T* ab = a + b * 4 * H;
    T* gb = gp + b * 4 * H;
    for (int64_t k = 0; k < H; ++k) {
      const int64_t e = b * H + k;
      const T i = ab[k], f = ab[H + k], o = ab[2 * H + k], g = ab[3 * H + k];
      const T tc = std::tanh(pc[e]);
      const T dh = pgh != nullptr ? pgh[e] : T(0);
      const T dc = (pgc != nullptr ? pgc[e] : T(0)) + dh * o * (T(1) - tc * tc);
      gb[k] = cl(dc * g * i * (T(1) - i));
      gb[H + k] = cl(dc * cp[e] * f * (T(1) - f));
      gb[2 * H + k] = cl(dh * tc * o * (T(1) - o));
      gb[3 * H + k] = cl(dc * i * (T(1) - g * g));
      gc0[e] = dc * f;
    }
  }
}

struct LSTMCellFunction : public torch::autograd::Function<LSTMCellFunction> {
  static variable_list forward(AutogradContext* ctx, const Tensor& pre_in,
                               const Tensor& c_prev_in) {
    const Tensor pre = pre_in.contiguous(), c_prev = c_prev_in.contiguous();
    const int64_t B = pre.size(0), H = pre.size(1) / 4;
    TORCH_CHECK(pre.dim() == 2 && pre.size(1) == 4 * H && c_prev.sizes() == at::IntArrayRef({B, H}),
                "kgdnc fused LSTM cell: pre (B, 4H) and c (B, H) expected");
    Tensor act = at::empty({B, 4 * H}, pre.options());  // σ(i), σ(f), σ(o), tanh(g)
    Tensor h = at::empty({B, H}, pre.options());
    Tensor c = at::empty({B, H}, pre.options());
    AT_DISPATCH_FLOATING_TYPES(pre.scalar_type(), "kgdnc_lstm_cell", [&] {
      using T = scalar_t;
      lstm_cell_rows<T>(pre.data_ptr<T>(), c_prev.data_ptr<T>(), act.data_ptr<T>(),
                        h.data_ptr<T>(), c.data_ptr<T>(), B, H);
    });
    ctx->save_for_backward({act, c_prev, c});
    ctx->set_materialize_grads(false);
    return {h, c};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    TORCH_CHECK(!at::GradMode::is_enabled(),
                "kgdnc fused LSTM cell: the backward pass is not differentiable "
                "(use DNCConfig(fused='off') for higher-order gradients)");
    const variable_list s = ctx->get_saved_variables();
    const Tensor &act = s[0], &c_prev = s[1], &c = s[2];
    const int64_t B = act.size(0), H = act.size(1) / 4;
    const Tensor gh = grads[0].defined() ? grads[0].contiguous() : Tensor();
    const Tensor gcn = grads[1].defined() ? grads[1].contiguous() : Tensor();
    Tensor gpre = at::empty({B, 4 * H}, act.options());
    Tensor gcp = at::empty({B, H}, act.options());
    AT_DISPATCH_FLOATING_TYPES(act.scalar_type(), "kgdnc_lstm_cell_backward", [&] {
      using T = scalar_t;
      lstm_cell_rows_backward<T>(act.data_ptr<T>(), c_prev.data_ptr<T>(), c.data_ptr<T>(),
                                 gh.defined() ? gh.data_ptr<T>() : nullptr,
                                 gcn.defined() ? gcn.data_ptr<T>() : nullptr,
                                 gpre.data_ptr<T>(), gcp.data_ptr<T>(), B, H, T(-1));
    });
    return {gpre, gcp};
  }
};

// (pre (B, 4H), c_{t-1} (B, H)) -> (h_t, c_t), each (B, H)
std::vector<Tensor> lstm_cell(const Tensor& pre, const Tensor& c_prev) {
  return LSTMCellFunction::apply(pre, c_prev);
}

}  // namespace

// ------------------------------------------------------- controller step
//
// One whole controller step of a one-layer LSTM controller, as DNC._unroll
// computes it when the weight gradients are deferred (the weights come in
// detached and their gradients are formed once per call from the saved inputs):
//   pre  = gx + r_{t-1} W_rᵀ + h_{t-1} W_hᵀ          (gx: x-projection, bias, Z_t)
//   c_t, h_t = the LSTM cell of pre and c_{t-1}
//   hn   = LN(h_t) ∘ g_h + b_h   (layer_norm; else hn = h_t)
//   a    = xb + hn W_ξᵀ          (xb: b_ξ + Z_ξ,t)
//   ξ_t  = clamp(LN(a) ∘ g_ξ + b_ξ', ±clip)  (LN with layer_norm; clamp with a clip)
// The LSTM gradient clip acts on ∂pre as the eager step's hook does.

namespace {

template <typename T>
void layer_norm_rows(const T* x, T* normed, T* rstd, int64_t B, int64_t D, T eps) {
  for (int64_t b = 0; b < B; ++b) {
    const T* xb = x + b * D;
    T mean = 0;
    for (int64_t k = 0; k < D; ++k) mean += xb[k];
    mean /= T(D);
    T var = 0;
    for (int64_t k = 0; k < D; ++k) var += (xb[k] - mean) * (xb[k] - mean);
    var /= T(D);
    const T r = T(1) / std::sqrt(var + eps);
    rstd[b] = r;
    for (int64_t k = 0; k < D; ++k) normed[b * D + k] = (xb[k] - mean) * r;
  }
}

// ∂x of y = LN(x) ∘ g from ∂y; accumulates Σ_b ∂y ∘ normed into dg and Σ_b ∂y into db
template <typename T>
void layer_norm_rows_backward(const T* dy, const T* normed, const T* rstd, const T* g, T* dx,
                              T* dg, T* db, int64_t B, int64_t D) {
  for (int64_t b = 0; b < B; ++b) {
    const T* dyb = dy + b * D;
    const T* nb = normed + b * D;
    T mean_d = 0, mean_dn = 0;
    for (int64_t k = 0; k < D; ++k) {
      const T d = dyb[k] * (g != nullptr ? g[k] : T(1));
      mean_d += d;
      mean_dn += d * nb[k];
      if (dg != nullptr) dg[k] += dyb[k] * nb[k];
      if (db != nullptr) db[k] += dyb[k];
    }
    mean_d /= T(D);
    mean_dn /= T(D);
    for (int64_t k = 0; k < D; ++k) {
      const T d = dyb[k] * (g != nullptr ? g[k] : T(1));
      dx[b * D + k] = rstd[b] * (d - mean_d - nb[k] * mean_dn);
    }
  }
}

// What the controller step's backward needs of its forward.
struct ControllerSaved {
  Tensor act, c_prev, c, nh, rstd_h, na, rstd_i, unclamped;
};

// The forward of one controller step -> [h_t, c_t, hn_t, ξ_t]; hn_t is h_t itself
// without layer_norm.
std::vector<Tensor> controller_forward_impl(const Tensor& gx, const Tensor& r,
                                            const Tensor& h_prev, const Tensor& c_prev_in,
                                            const Tensor& ln_g, const Tensor& ln_b,
                                            const Tensor& xb, const Tensor& lni_g,
                                            const Tensor& lni_b, const Tensor& wr_t,
                                            const Tensor& wh_t, const Tensor& wi_t,
                                            bool layer_norm, double clip, double eps,
                                            ControllerSaved& saved) {
  const int64_t B = gx.size(0), H = gx.size(1) / 4, S = xb.size(1);
  TORCH_CHECK(gx.dim() == 2 && h_prev.sizes() == at::IntArrayRef({B, H}) &&
                  wi_t.sizes() == at::IntArrayRef({H, S}),
              "kgdnc fused controller step: shapes do not match");
  const Tensor pre = at::addmm(at::addmm(gx, r, wr_t), h_prev, wh_t).contiguous();
  const Tensor c_prev = c_prev_in.contiguous();
  Tensor act = at::empty({B, 4 * H}, pre.options());
  Tensor h = at::empty({B, H}, pre.options());
  Tensor c = at::empty({B, H}, pre.options());
  Tensor hn = layer_norm ? at::empty({B, H}, pre.options()) : h;
  Tensor nh = layer_norm ? at::empty({B, H}, pre.options()) : Tensor();
  Tensor rstd_h = layer_norm ? at::empty({B}, pre.options()) : Tensor();
  AT_DISPATCH_FLOATING_TYPES(pre.scalar_type(), "kgdnc_controller_step", [&] {
    using T = scalar_t;
    T* ph = h.data_ptr<T>();
    lstm_cell_rows<T>(pre.data_ptr<T>(), c_prev.data_ptr<T>(), act.data_ptr<T>(), ph,
                      c.data_ptr<T>(), B, H);
    if (layer_norm) {
      T* pn = nh.data_ptr<T>();
      layer_norm_rows<T>(ph, pn, rstd_h.data_ptr<T>(), B, H, T(eps));
      const T* g = ln_g.data_ptr<T>();
      const T* bb = ln_b.data_ptr<T>();
      T* out = hn.data_ptr<T>();
      for (int64_t b = 0; b < B; ++b)
        for (int64_t k = 0; k < H; ++k) out[b * H + k] = bb[k] + pn[b * H + k] * g[k];
    }
  });
  const Tensor pre_i = at::addmm(xb, hn, wi_t).contiguous();
  Tensor xi = at::empty({B, S}, pre.options());
  Tensor na = layer_norm ? at::empty({B, S}, pre.options()) : Tensor();
  Tensor rstd_i = layer_norm ? at::empty({B}, pre.options()) : Tensor();
  AT_DISPATCH_FLOATING_TYPES(pre.scalar_type(), "kgdnc_controller_step_interface", [&] {
    using T = scalar_t;
    const T* pa = pre_i.data_ptr<T>();
    T* px = xi.data_ptr<T>();
    if (layer_norm) {
      T* pn = na.data_ptr<T>();
      layer_norm_rows<T>(pa, pn, rstd_i.data_ptr<T>(), B, S, T(eps));
      const T* g = lni_g.data_ptr<T>();
      const T* bb = lni_b.data_ptr<T>();
      for (int64_t b = 0; b < B; ++b)
        for (int64_t k = 0; k < S; ++k) px[b * S + k] = bb[k] + pn[b * S + k] * g[k];
    } else {
      std::memcpy(px, pa, sizeof(T) * B * S);
    }
  });
  Tensor unclamped = clip >= 0 ? xi.clone() : Tensor();  // for the clamp's backward
  if (clip >= 0) xi.clamp_(-clip, clip);
  saved = ControllerSaved{act, c_prev, c, nh, rstd_h, na, rstd_i, unclamped};
  return {h, c, hn, xi};
}

// Gradients of one controller step.
struct ControllerGrads {
  Tensor pre, r, h_prev, c_prev, ln_g, ln_b, xb, lni_g, lni_b;
};

// From the gradients of h_t, c_t, hn_t and ξ_t (each may be undefined: zero).
ControllerGrads controller_backward_impl(const ControllerSaved& s, const Tensor& g_h,
                                         const Tensor& g_c, const Tensor& g_hn,
                                         const Tensor& g_xi, const Tensor& ln_g,
                                         const Tensor& lni_g, const Tensor& wr_t,
                                         const Tensor& wh_t, const Tensor& wi_t,
                                         bool layer_norm, double lstm_clip, double clip) {
  const Tensor &act = s.act, &c_prev = s.c_prev, &c = s.c, &nh = s.nh, &rstd_h = s.rstd_h;
  const Tensor &na = s.na, &rstd_i = s.rstd_i, &unclamped = s.unclamped;
  const int64_t B = act.size(0), H = act.size(1) / 4, S = wi_t.size(1);
  const auto opts = act.options();
  // ∂ξ through the clamp and the interface LN -> ∂a (= ∂xb)
  Tensor d_a = at::zeros({B, S}, opts);
  Tensor d_lni_g = layer_norm ? at::zeros({S}, opts) : Tensor();
  Tensor d_lni_b = layer_norm ? at::zeros({S}, opts) : Tensor();
  Tensor d_ln_g = layer_norm ? at::zeros({H}, opts) : Tensor();
  Tensor d_ln_b = layer_norm ? at::zeros({H}, opts) : Tensor();
  if (g_xi.defined()) {
    Tensor d_xi = g_xi.contiguous();
    if (clip >= 0) {  // the clamp passes the gradient where -clip ≤ ξ ≤ clip
      d_xi = d_xi.clone();
      AT_DISPATCH_FLOATING_TYPES(act.scalar_type(), "kgdnc_controller_step_bwd_clip", [&] {
        using T = scalar_t;
        T* d = d_xi.data_ptr<T>();
        const T* u = unclamped.data_ptr<T>();
        const T lim = T(clip);
        for (int64_t e = 0; e < B * S; ++e)
          if (u[e] < -lim || u[e] > lim) d[e] = T(0);
      });
    }
    if (layer_norm) {
      AT_DISPATCH_FLOATING_TYPES(act.scalar_type(), "kgdnc_controller_step_bwd_i", [&] {
        using T = scalar_t;
        layer_norm_rows_backward<T>(d_xi.data_ptr<T>(), na.data_ptr<T>(),
                                    rstd_i.data_ptr<T>(), lni_g.data_ptr<T>(),
                                    d_a.data_ptr<T>(), d_lni_g.data_ptr<T>(),
                                    d_lni_b.data_ptr<T>(), B, S);
      });
    } else {
      d_a = d_xi;
    }
  }
  // ∂hn = given + ∂a W_ξ ; then through the LN of h into ∂h
  Tensor d_hn = at::mm(d_a, wi_t.t());
  if (g_hn.defined()) d_hn.add_(g_hn);
  Tensor d_h;
  if (layer_norm) {
    d_h = at::empty({B, H}, opts);
    d_hn = d_hn.contiguous();
    AT_DISPATCH_FLOATING_TYPES(act.scalar_type(), "kgdnc_controller_step_bwd_h", [&] {
      using T = scalar_t;
      layer_norm_rows_backward<T>(d_hn.data_ptr<T>(), nh.data_ptr<T>(), rstd_h.data_ptr<T>(),
                                  ln_g.data_ptr<T>(), d_h.data_ptr<T>(), d_ln_g.data_ptr<T>(),
                                  d_ln_b.data_ptr<T>(), B, H);
    });
  } else {
    d_h = d_hn;
  }
  if (g_h.defined()) d_h.add_(g_h);
  d_h = d_h.contiguous();
  const Tensor gcn = g_c.defined() ? g_c.contiguous() : Tensor();
  Tensor gpre = at::empty({B, 4 * H}, opts);
  Tensor gcp = at::empty({B, H}, opts);
  AT_DISPATCH_FLOATING_TYPES(act.scalar_type(), "kgdnc_controller_step_bwd_cell", [&] {
    using T = scalar_t;
    lstm_cell_rows_backward<T>(act.data_ptr<T>(), c_prev.data_ptr<T>(), c.data_ptr<T>(),
                               d_h.data_ptr<T>(), gcn.defined() ? gcn.data_ptr<T>() : nullptr,
                               gpre.data_ptr<T>(), gcp.data_ptr<T>(), B, H,
                               T(lstm_clip >= 0 ? lstm_clip : -1));
  });
  Tensor d_r = at::mm(gpre, wr_t.t());
  Tensor d_hp = at::mm(gpre, wh_t.t());
  return ControllerGrads{gpre, d_r, d_hp, gcp, d_ln_g, d_ln_b, d_a, d_lni_g, d_lni_b};
}

struct ControllerStepFunction : public torch::autograd::Function<ControllerStepFunction> {
  // inputs: gx, r, h_prev, c_prev, ln_g, ln_b, xb, lni_g, lni_b (differentiable);
  // wr_t, wh_t, wi_t (detached); layer_norm, lstm_clip (< 0: none), clip (< 0: none), eps
  static variable_list forward(AutogradContext* ctx, const Tensor& gx, const Tensor& r,
                               const Tensor& h_prev, const Tensor& c_prev_in,
                               const Tensor& ln_g, const Tensor& ln_b, const Tensor& xb,
                               const Tensor& lni_g, const Tensor& lni_b, const Tensor& wr_t,
                               const Tensor& wh_t, const Tensor& wi_t, bool layer_norm,
                               double lstm_clip, double clip, double eps) {
    ControllerSaved sv;
    std::vector<Tensor> outs = controller_forward_impl(gx, r, h_prev, c_prev_in, ln_g, ln_b, xb,
                                                       lni_g, lni_b, wr_t, wh_t, wi_t,
                                                       layer_norm, clip, eps, sv);
    ctx->save_for_backward({sv.act, sv.c_prev, sv.c, sv.nh, sv.rstd_h, sv.na, sv.rstd_i,
                            sv.unclamped, ln_g, lni_g, wr_t, wh_t, wi_t});
    ctx->saved_data["layer_norm"] = layer_norm;
    ctx->saved_data["lstm_clip"] = lstm_clip;
    ctx->saved_data["clip"] = clip;
    ctx->set_materialize_grads(false);
    if (!layer_norm) outs[2] = outs[0].clone();  // hn is h: a separate output
    return outs;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    TORCH_CHECK(!at::GradMode::is_enabled(),
                "kgdnc fused controller step: the backward pass is not differentiable "
                "(use DNCConfig(fused='off') for higher-order gradients)");
    const variable_list s = ctx->get_saved_variables();
    const ControllerSaved sv{s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]};
    const ControllerGrads g = controller_backward_impl(
        sv, grads[0], grads[1], grads[2], grads[3], s[8], s[9], s[10], s[11], s[12],
        ctx->saved_data["layer_norm"].toBool(), ctx->saved_data["lstm_clip"].toDouble(),
        ctx->saved_data["clip"].toDouble());
    return {g.pre,   g.r,      g.h_prev, g.c_prev, g.ln_g,   g.ln_b,   g.xb,     g.lni_g,
            g.lni_b, Tensor(), Tensor(), Tensor(), Tensor(), Tensor(), Tensor(), Tensor()};
  }
};

// -> [h_t, c_t, hn_t, ξ_t]
std::vector<Tensor> controller_step(const Tensor& gx, const Tensor& r, const Tensor& h_prev,
                                    const Tensor& c_prev, const Tensor& ln_g,
                                    const Tensor& ln_b, const Tensor& xb, const Tensor& lni_g,
                                    const Tensor& lni_b, const Tensor& wr_t, const Tensor& wh_t,
                                    const Tensor& wi_t, bool layer_norm, double lstm_clip,
                                    double clip, double eps) {
  return ControllerStepFunction::apply(gx, r, h_prev, c_prev, ln_g, ln_b, xb, lni_g, lni_b,
                                       wr_t, wh_t, wi_t, layer_norm, lstm_clip, clip, eps);
}

// ------------------------------------------------------------ whole unroll
//
// All T steps of a one-layer LSTM controller with the fused access step as one
// autograd node: the same controller_forward_impl/access_forward per step, and
// in the backward the same controller_backward_impl/access_backward_impl per
// step in reverse, with no Python and no autograd engine between the steps.
//
// Inputs: gx (T, B, 4H) and xb (T, B, S), as for controller_step per step;
// the LN gains and biases (empty without layer_norm); the state before the
// first step: h0, c0 (B, H), memory, read weights, write weights, usage,
// precedence, links (dense or sparse values), index (sparse; else none),
// read vectors (B, R, W); the detached weights W_rᵀ, W_hᵀ, W_ξᵀ; the options.
// Outputs: hn (T, B, H) [the controller outputs]; reads (T+1, B, R·W) [r_0 .. r_T,
// r_0 the given one]; h (T+1, B, H) [h_0 .. h_T, raw: not differentiable, for
// the deferred weight gradients]; the state after the last step: h_T, c_T,
// memory, read weights, write weights, usage, precedence, links, index, read
// vectors (B, R, W).

constexpr size_t kAccessSaved = 20;  // per step: ξ_t and access_forward's outputs but r
constexpr size_t kStepSaved = kAccessSaved + 8;

struct UnrollOptions {
  bool layer_norm;
  double lstm_clip, clip, eps;
  bool key_masking;
  double key_mask_floor;
  bool deallocation_erase, link_sharpness, sparse_threshold;
  double epsilon;

  void save(AutogradContext* ctx) const {
    auto& d = ctx->saved_data;
    d["layer_norm"] = layer_norm;
    d["lstm_clip"] = lstm_clip;
    d["clip"] = clip;
    d["eps"] = eps;
    d["key_masking"] = key_masking;
    d["key_mask_floor"] = key_mask_floor;
    d["deallocation_erase"] = deallocation_erase;
    d["link_sharpness"] = link_sharpness;
    d["sparse_threshold"] = sparse_threshold;
    d["epsilon"] = epsilon;
  }
  static UnrollOptions load(AutogradContext* ctx) {
    auto& d = ctx->saved_data;
    return {d["layer_norm"].toBool(),     d["lstm_clip"].toDouble(),
            d["clip"].toDouble(),         d["eps"].toDouble(),
            d["key_masking"].toBool(),    d["key_mask_floor"].toDouble(),
            d["deallocation_erase"].toBool(), d["link_sharpness"].toBool(),
            d["sparse_threshold"].toBool(), d["epsilon"].toDouble()};
  }
};

// The forward; with `saved`, what the backward needs is appended to it.
std::vector<Tensor> unroll_forward(const Tensor& gx_in, const Tensor& xb_in, const Tensor& ln_g,
                                   const Tensor& ln_b, const Tensor& lni_g, const Tensor& lni_b,
                                   const Tensor& h0, const Tensor& c0, const Tensor& memory,
                                   const Tensor& read_weights, const Tensor& write_weights,
                                   const Tensor& usage, const Tensor& precedence,
                                   const Tensor& links, const std::optional<Tensor>& index,
                                   const Tensor& rv0, const Tensor& wr_t, const Tensor& wh_t,
                                   const Tensor& wi_t, const std::optional<Tensor>& keep,
                                   const UnrollOptions& o, std::vector<Tensor>* saved) {
  const Tensor gx = gx_in.contiguous();
  const int64_t T = gx.size(0), B = gx.size(1), H = h0.size(1);
  TORCH_CHECK(T >= 1 && gx.dim() == 3 && xb_in.dim() == 3 && xb_in.size(0) == T,
              "kgdnc fused unroll: gx (T, B, 4H) and xb (T, B, S) with T >= 1 expected");
  const Tensor xb = xb_in.contiguous();
  const int64_t RW = rv0.size(1) * rv0.size(2);
  Tensor hn_all = at::empty({T, B, H}, gx.options());
  Tensor reads = at::empty({T + 1, B, RW}, gx.options());
  Tensor h_all = at::empty({T + 1, B, H}, gx.options());
  reads[0].copy_(rv0.reshape({B, RW}));
  h_all[0].copy_(h0);
  Tensor h = h0, c = c0, M = memory, wr = read_weights, ww = write_weights, u = usage;
  Tensor p = precedence, L = links, rv;
  std::optional<Tensor> idx = index;
  const bool resets = keep.has_value() && keep->defined();
  for (int64_t t = 0; t < T; ++t) {
    if (resets) {  // the LSTM state zeroed where keep[t] is 0
      const Tensor k = (*keep)[t].unsqueeze(1);
      h = h.mul(k);
      c = c.mul(k);
      h_all[t].copy_(h);
    }
    ControllerSaved sv;
    std::vector<Tensor> ctrl = controller_forward_impl(
        gx[t], reads[t], h, c, ln_g, ln_b, xb[t], lni_g, lni_b, wr_t, wh_t, wi_t, o.layer_norm,
        o.clip, o.eps, sv);
    h = ctrl[0];
    c = ctrl[1];
    std::vector<Tensor> a = access_forward(ctrl[3], M, wr, ww, u, p, L, idx, o.key_masking,
                                           o.key_mask_floor, o.deallocation_erase,
                                           o.link_sharpness, o.sparse_threshold, o.epsilon);
    hn_all[t].copy_(ctrl[2]);
    h_all[t + 1].copy_(h);
    reads[t + 1].copy_(a[7].view({B, RW}));
    if (saved != nullptr) {
      saved->push_back(ctrl[3]);
      for (size_t k = 0; k < a.size(); ++k)
        if (k != 7) saved->push_back(a[k]);
      for (const Tensor& x : {sv.act, sv.c_prev, sv.c, sv.nh, sv.rstd_h, sv.na, sv.rstd_i,
                              sv.unclamped})
        saved->push_back(x);
    }
    M = a[0];
    wr = a[1];
    ww = a[2];
    u = a[3];
    p = a[4];
    L = a[5];
    if (idx.has_value() && idx->defined()) idx = a[6];
    rv = a[7];
  }
  Tensor out_index = idx.has_value() && idx->defined()
                         ? *idx
                         : at::empty({0}, memory.options().dtype(at::kLong));
  return {hn_all, reads, h_all, h, c, M, wr, ww, u, p, L, out_index, rv};
}

struct UnrollFunction : public torch::autograd::Function<UnrollFunction> {
  static variable_list forward(AutogradContext* ctx, const Tensor& gx, const Tensor& xb,
                               const Tensor& ln_g, const Tensor& ln_b, const Tensor& lni_g,
                               const Tensor& lni_b, const Tensor& h0, const Tensor& c0,
                               const Tensor& memory, const Tensor& read_weights,
                               const Tensor& write_weights, const Tensor& usage,
                               const Tensor& precedence, const Tensor& links,
                               const std::optional<Tensor>& index, const Tensor& rv0,
                               const Tensor& wr_t, const Tensor& wh_t, const Tensor& wi_t,
                               const std::optional<Tensor>& keep, const UnrollOptions& o) {
    const bool sparse = index.has_value() && index->defined();
    // saved: ln_g, lni_g, W_rᵀ, W_hᵀ, W_ξᵀ; the state before the first step; per step
    // ξ_t, access_forward's outputs but r, the controller's ControllerSaved
    std::vector<Tensor> saved = {ln_g,  lni_g,      wr_t,  wh_t,       wi_t,
                                 memory, read_weights, write_weights, usage, precedence,
                                 links, sparse ? *index : Tensor()};
    std::vector<Tensor> outs =
        unroll_forward(gx, xb, ln_g, ln_b, lni_g, lni_b, h0, c0, memory, read_weights,
                       write_weights, usage, precedence, links, index, rv0, wr_t, wh_t, wi_t,
                       keep, o, &saved);
    ctx->save_for_backward(saved);
    ctx->saved_data["keep"] = keep.has_value() && keep->defined() ? *keep : Tensor();
    ctx->saved_data["steps"] = gx.size(0);
    ctx->saved_data["sparse"] = sparse;
    o.save(ctx);
    ctx->mark_non_differentiable({outs[2], outs[11]});
    ctx->set_materialize_grads(false);
    return outs;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    TORCH_CHECK(!at::GradMode::is_enabled(),
                "kgdnc fused unroll: the backward pass is not differentiable "
                "(use DNCConfig(fused='off') for higher-order gradients)");
    const variable_list s = ctx->get_saved_variables();
    const int64_t T = ctx->saved_data["steps"].toInt();
    const bool sparse = ctx->saved_data["sparse"].toBool();
    const UnrollOptions o = UnrollOptions::load(ctx);
    const c10::IValue& kept = ctx->saved_data["keep"];  // None when no step resets
    const Tensor keep = kept.isTensor() ? kept.toTensor() : Tensor();
    const Tensor &ln_g = s[0], &lni_g = s[1], &wr_t = s[2], &wh_t = s[3], &wi_t = s[4];
    constexpr size_t kHead = 5, kFirst = kHead + 7;  // the state before step 0: s[5..11]
    // step t's tensors start at base(t); the state before it: the previous step's
    // outputs (M, w^r, w^w, u, p, L, index at offsets 1..7), or s[5..11] for t = 0
    auto base = [&](int64_t t) { return kFirst + static_cast<size_t>(t) * kStepSaved; };
    auto before = [&](int64_t t, size_t k) -> const Tensor& {
      return t == 0 ? s[kHead + k] : s[base(t - 1) + 1 + k];
    };
    const Tensor& M_last = s[base(T - 1) + 1];
    const int64_t B = M_last.size(0), R = s[base(T - 1) + 2].size(1), W = M_last.size(2);
    const int64_t H = wh_t.size(0), S = wi_t.size(1);
    const auto opts = M_last.options();
    auto given = [&](size_t k, const Tensor& like) {
      return grads[k].defined() ? grads[k].contiguous() : at::zeros_like(like);
    };
    const Tensor& g_hn = grads[0];
    const Tensor& g_reads = grads[1];
    // the state's gradients, carried backwards from the last step
    Tensor gM = given(5, M_last), gwr = given(6, s[base(T - 1) + 2]);
    Tensor gww = given(7, s[base(T - 1) + 3]), gu = given(8, s[base(T - 1) + 4]);
    Tensor gp = given(9, s[base(T - 1) + 5]);
    const bool own_gL = !grads[10].defined();
    Tensor gL = given(10, s[base(T - 1) + 6]);
    Tensor g_r = grads[12].defined() ? grads[12].reshape({B, R * W}).clone()
                                     : at::zeros({B, R * W}, opts);
    Tensor g_h = grads[3], g_c = grads[4];
    Tensor d_gx = at::empty({T, B, 4 * H}, opts);
    Tensor d_xb = at::empty({T, B, S}, opts);
    Tensor d_ln_g, d_ln_b, d_lni_g, d_lni_b;
    std::optional<Tensor> none;
    for (int64_t t = T - 1; t >= 0; --t) {
      const size_t k = base(t);
      if (g_reads.defined()) g_r.add_(g_reads[t + 1]);
      const Tensor grv = g_r.view({B, R, W});
      Tensor reuse = (!sparse && (own_gL || t < T - 1)) ? gL : Tensor();
      std::vector<Tensor> ga = access_backward_impl(
          gM, gwr, gww, gu, gp, gL, grv, s[k], before(t, 0), before(t, 1), before(t, 2),
          before(t, 3), before(t, 4), before(t, 5),
          sparse ? std::optional<Tensor>(before(t, 6)) : none, s[k + 1], s[k + 2], s[k + 3],
          s[k + 6], sparse ? std::optional<Tensor>(s[k + 7]) : none, s[k + 8], s[k + 9],
          s[k + 10], s[k + 11], s[k + 12], s[k + 13], s[k + 14], s[k + 15], s[k + 16],
          sparse ? std::optional<Tensor>(s[k + 17]) : none,
          sparse ? std::optional<Tensor>(s[k + 18]) : none,
          sparse ? std::optional<Tensor>(s[k + 19]) : none, o.key_masking, o.key_mask_floor,
          o.deallocation_erase, o.link_sharpness, o.sparse_threshold, o.epsilon, reuse);
      const size_t q = k + kAccessSaved;
      const ControllerSaved sv{s[q],     s[q + 1], s[q + 2], s[q + 3],
                               s[q + 4], s[q + 5], s[q + 6], s[q + 7]};
      const ControllerGrads gc = controller_backward_impl(
          sv, g_h, g_c, g_hn.defined() ? g_hn[t] : Tensor(), ga[0], ln_g, lni_g, wr_t, wh_t,
          wi_t, o.layer_norm, o.lstm_clip, o.clip);
      d_gx[t].copy_(gc.pre);
      d_xb[t].copy_(gc.xb);
      if (o.layer_norm) {
        if (t == T - 1) {
          d_ln_g = gc.ln_g, d_ln_b = gc.ln_b, d_lni_g = gc.lni_g, d_lni_b = gc.lni_b;
        } else {
          d_ln_g.add_(gc.ln_g), d_ln_b.add_(gc.ln_b);
          d_lni_g.add_(gc.lni_g), d_lni_b.add_(gc.lni_b);
        }
      }
      gM = ga[1], gwr = ga[2], gww = ga[3], gu = ga[4], gp = ga[5], gL = ga[6];
      g_r = gc.r;
      g_h = gc.h_prev;
      g_c = gc.c_prev;
      if (keep.defined()) {  // through the reset before step t
        const Tensor k = keep[t].unsqueeze(1);
        g_h = g_h.mul(k);
        g_c = g_c.mul(k);
      }
    }
    if (g_reads.defined()) g_r.add_(g_reads[0]);
    return {d_gx,     d_xb,     d_ln_g,   d_ln_b,   d_lni_g,  d_lni_b,  g_h,      g_c,
            gM,       gwr,      gww,      gu,       gp,       gL,       Tensor(), g_r.view({B, R, W}),
            Tensor(), Tensor(), Tensor(), Tensor(), Tensor()};  // W_rᵀ, W_hᵀ, W_ξᵀ, keep, options
  }
};

std::vector<Tensor> unroll(const Tensor& gx, const Tensor& xb, const Tensor& ln_g,
                           const Tensor& ln_b, const Tensor& lni_g, const Tensor& lni_b,
                           const Tensor& h0, const Tensor& c0, const Tensor& memory,
                           const Tensor& read_weights, const Tensor& write_weights,
                           const Tensor& usage, const Tensor& precedence, const Tensor& links,
                           const std::optional<Tensor>& index, const Tensor& rv0,
                           const Tensor& wr_t, const Tensor& wh_t, const Tensor& wi_t,
                           const std::optional<Tensor>& keep, bool layer_norm,
                           double lstm_clip, double clip, double eps,
                           bool key_masking, double key_mask_floor, bool deallocation_erase,
                           bool link_sharpness, bool sparse_threshold, double epsilon) {
  const UnrollOptions o{layer_norm,   lstm_clip,          clip,           eps,
                        key_masking,  key_mask_floor,     deallocation_erase,
                        link_sharpness, sparse_threshold, epsilon};
  bool needs_grad = false;
  if (at::GradMode::is_enabled())
    for (const Tensor* x : {&gx, &xb, &ln_g, &ln_b, &lni_g, &lni_b, &h0, &c0, &memory,
                            &read_weights, &write_weights, &usage, &precedence, &links, &rv0})
      needs_grad = needs_grad || x->requires_grad();
  if (!needs_grad)
    return unroll_forward(gx, xb, ln_g, ln_b, lni_g, lni_b, h0, c0, memory, read_weights,
                          write_weights, usage, precedence, links, index, rv0, wr_t, wh_t, wi_t,
                          keep, o, nullptr);
  return UnrollFunction::apply(gx, xb, ln_g, ln_b, lni_g, lni_b, h0, c0, memory, read_weights,
                               write_weights, usage, precedence, links, index, rv0, wr_t, wh_t,
                               wi_t, keep, o);
}

}  // namespace

TORCH_LIBRARY(kgdnc_fused, m) {
  m.def(
      "access_forward(Tensor xi, Tensor memory, Tensor read_weights, Tensor write_weights, "
      "Tensor usage, Tensor precedence, Tensor links, Tensor? index, bool key_masking, "
      "float key_mask_floor, bool deallocation_erase, bool link_sharpness, "
      "bool sparse_threshold, float epsilon) -> Tensor[]");
  m.def(
      "access_backward(Tensor g_memory, Tensor g_read_weights, Tensor g_write_weights, "
      "Tensor g_usage, Tensor g_precedence, Tensor g_links, Tensor g_read_vectors, "
      "Tensor xi, Tensor memory_prev, Tensor read_weights_prev, Tensor write_weights_prev, "
      "Tensor usage_prev, Tensor precedence_prev, Tensor links_prev, Tensor? index_prev, "
      "Tensor memory, Tensor read_weights, Tensor write_weights, Tensor links, Tensor? index, "
      "Tensor psi, Tensor phi, Tensor alloc, Tensor write_content, Tensor read_content, "
      "Tensor forward, Tensor backward, Tensor forward_sharp, Tensor backward_sharp, "
      "Tensor? rows, Tensor? cols, Tensor? keep, bool key_masking, float key_mask_floor, "
      "bool deallocation_erase, bool link_sharpness, bool sparse_threshold, float epsilon) "
      "-> Tensor[]");
  m.def(
      "access_step(Tensor xi, Tensor memory, Tensor read_weights, Tensor write_weights, "
      "Tensor usage, Tensor precedence, Tensor links, Tensor? index, bool key_masking, "
      "float key_mask_floor, bool deallocation_erase, bool link_sharpness, "
      "bool sparse_threshold, float epsilon) -> Tensor[]");
  m.impl("access_step", c10::DispatchKey::CompositeImplicitAutograd, TORCH_FN(access_step));
  m.impl("access_forward", c10::DispatchKey::CPU, TORCH_FN(access_forward));
  m.def("lstm_cell(Tensor pre, Tensor c_prev) -> Tensor[]");
  m.impl("lstm_cell", c10::DispatchKey::CompositeImplicitAutograd, TORCH_FN(lstm_cell));
  m.impl("access_backward", c10::DispatchKey::CPU, TORCH_FN(access_backward));
  m.def(
      "controller_step(Tensor gx, Tensor r, Tensor h_prev, Tensor c_prev, Tensor ln_g, "
      "Tensor ln_b, Tensor xb, Tensor lni_g, Tensor lni_b, Tensor wr_t, Tensor wh_t, "
      "Tensor wi_t, bool layer_norm, float lstm_clip, float clip, float eps) -> Tensor[]");
  m.impl("controller_step", c10::DispatchKey::CompositeImplicitAutograd,
         TORCH_FN(controller_step));
  m.def(
      "unroll(Tensor gx, Tensor xb, Tensor ln_g, Tensor ln_b, Tensor lni_g, Tensor lni_b, "
      "Tensor h0, Tensor c0, Tensor memory, Tensor read_weights, Tensor write_weights, "
      "Tensor usage, Tensor precedence, Tensor links, Tensor? index, Tensor read_vectors, "
      "Tensor wr_t, Tensor wh_t, Tensor wi_t, Tensor? keep, bool layer_norm, float lstm_clip, "
      "float clip, float eps, bool key_masking, float key_mask_floor, bool deallocation_erase, "
      "bool link_sharpness, bool sparse_threshold, float epsilon) -> Tensor[]");
  m.impl("unroll", c10::DispatchKey::CompositeImplicitAutograd, TORCH_FN(unroll));
}
