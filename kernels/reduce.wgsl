// Workgroup sum and max reductions of one f32 per invocation, with a subgroup
// fast path. Requires WG (threads per workgroup) and `lid` passed in; with
// SUBGROUPS also SGMIN (the device's minimum subgroup size). Subgroups are runs
// of consecutive invocations, so each leader sits at a multiple of SGMIN.
// Include after common.wgsl (NEG_INF).
#ifdef SUBGROUPS
enable subgroups;
#endif
var<workgroup> red_buf: array<f32, WG>;

fn wg_sum(v: f32, lid: u32) -> f32 {
#ifdef SUBGROUPS
    // reduce within subgroups, then every invocation adds the leaders' sums:
    // two barriers instead of a log2(WG)-step tree
    let s = subgroupAdd(v);
    red_buf[lid] = select(0.0, s, subgroupElect());
    workgroupBarrier();
    var r = 0.0;
    for (var k = 0u; k < WG; k += SGMIN) { r += red_buf[k]; }
    workgroupBarrier();
    return r;
#else
    red_buf[lid] = v;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (lid < stride) { red_buf[lid] = red_buf[lid] + red_buf[lid + stride]; }
        workgroupBarrier();
    }
    let r = red_buf[0];
    workgroupBarrier();
    return r;
#endif
}

fn wg_max(v: f32, lid: u32) -> f32 {
#ifdef SUBGROUPS
    let s = subgroupMax(v);
    red_buf[lid] = select(NEG_INF, s, subgroupElect());
    workgroupBarrier();
    var r = NEG_INF;
    for (var k = 0u; k < WG; k += SGMIN) { r = max(r, red_buf[k]); }
    workgroupBarrier();
    return r;
#else
    red_buf[lid] = v;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (lid < stride) { red_buf[lid] = max(red_buf[lid], red_buf[lid + stride]); }
        workgroupBarrier();
    }
    let r = red_buf[0];
    workgroupBarrier();
    return r;
#endif
}
