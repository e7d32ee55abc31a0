// Workgroup sum and max reductions of one f32 per invocation, with a subgroup
// fast path. Requires WG (threads per workgroup) and `lid` passed in.
#ifdef SUBGROUPS
enable subgroups;
#endif
var<workgroup> red_buf: array<f32, WG>;

fn wg_sum(v: f32, lid: u32) -> f32 {
#ifdef SUBGROUPS
    // reduce within subgroups first, then across subgroup leaders
    let s = subgroupAdd(v);
    workgroupBarrier();
    red_buf[lid] = 0.0;
    workgroupBarrier();
    if (subgroupElect()) { red_buf[lid] = s; }
    workgroupBarrier();
#else
    red_buf[lid] = v;
    workgroupBarrier();
#endif
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (lid < stride) { red_buf[lid] = red_buf[lid] + red_buf[lid + stride]; }
        workgroupBarrier();
    }
    let r = red_buf[0];
    workgroupBarrier();
    return r;
}

fn wg_max(v: f32, lid: u32) -> f32 {
    red_buf[lid] = v;
    workgroupBarrier();
    for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
        if (lid < stride) { red_buf[lid] = max(red_buf[lid], red_buf[lid + stride]); }
        workgroupBarrier();
    }
    let r = red_buf[0];
    workgroupBarrier();
    return r;
}
