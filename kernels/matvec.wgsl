// Bring-up mat-vec / mat-mat (one workgroup per row, tokens in tiles of TT
// along z): Y[y_off + t*y_stride + r] = sum_c W[r][c] * X[x_off + t*x_stride + c].
struct Params {
    rows: u32,
    cols: u32,
    n_tok: u32,
    w_off: u32,
    x_off: u32,
    x_stride: u32,
    y_off: u32,
    y_stride: u32,
    grid_x: u32,
    softcap: f32,
    pad0: u32,
    pad1: u32,
}
const TT: u32 = 8u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<u32>;
@group(0) @binding(2) var<storage, read> X: array<f32>;
@group(0) @binding(3) var<storage, read_write> Y: array<f32>;

var<workgroup> part: array<f32, 256>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) li: vec3<u32>) {
    let lid = li.x;
    let r = wg.y * p.grid_x + wg.x;
    let row = p.w_off + r * row_bytes(p.cols);
    for (var t0 = wg.z * TT; t0 < p.n_tok; t0 += TT) {
        var acc: array<f32, TT>;
        for (var t = 0u; t < TT; t++) { acc[t] = 0.0; }
        if (r < p.rows) {
            for (var c = lid; c < p.cols; c += WG) {
                let w = dq(row, c);
                for (var t = 0u; t < TT; t++) {
                    if (t0 + t < p.n_tok) { acc[t] += w * X[p.x_off + (t0 + t) * p.x_stride + c]; }
                }
            }
        }
        let nt = min(TT, p.n_tok - t0); // uniform: reductions cost barriers, skip empty token slots
        for (var t = 0u; t < nt; t++) {
            let s = wg_sum(acc[t], lid);
            if (lid == 0u && r < p.rows && t0 + t < p.n_tok) {
                var y = s;
                if (p.softcap > 0.0) { y = p.softcap * tanh_safe(y / p.softcap); }
                Y[p.y_off + (t0 + t) * p.y_stride + r] = y;
            }
        }
    }
}
