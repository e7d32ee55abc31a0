#include "cli/caps_json.h"

#include <string.h>

#include "json.h"

static uint64_t num(const json_value *o, const char *k) {
    double v = json_get_num(o, k, 0);
    return v > 0 ? (uint64_t)v : 0;
}

rl_status rl_caps_from_json(const char *json, rl_gpu_caps *out, rl_error *err) {
    json_value *j = NULL;
    if (json_parse(json, strlen(json), &j, err) != RL_OK) return err->code;
    *out = (rl_gpu_caps){
        .has_subgroups = (uint32_t)num(j, "hasSubgroups"),
        .has_f16 = (uint32_t)num(j, "hasF16"),
        .has_timestamps = (uint32_t)num(j, "hasTimestamps"),
        .has_smx_i8 = (uint32_t)num(j, "hasSmxI8"),
        .subgroup_min = (uint32_t)num(j, "subgroupMin"),
        .subgroup_max = (uint32_t)num(j, "subgroupMax"),
        .max_buffer = num(j, "maxBuffer"),
        .max_binding = num(j, "maxBinding"),
        .offset_align = (uint32_t)num(j, "offsetAlign"),
        .uniform_align = (uint32_t)num(j, "uniformAlign"),
        .max_invocations = (uint32_t)num(j, "maxInvocations"),
        .max_wg_storage = (uint32_t)num(j, "maxWgStorage"),
        .max_storage_buffers = (uint32_t)num(j, "maxStorageBuffers"),
        .max_workgroups = (uint32_t)num(j, "maxWorkgroups"),
    };
    json_free(j);
    return RL_OK;
}
