/* The device caps the JS driver reports (js/gpu.mjs caps(): {"hasSubgroups":1,
 * "maxBinding":...}) as the engine's rl_gpu_caps: one parser for every export. */
#ifndef RL_CLI_CAPS_JSON_H
#define RL_CLI_CAPS_JSON_H

#include "core/err.h"
#include "gpu/gpu_abi.h"

/* Missing or non-positive fields read as 0 (the engine's "unknown"). */
rl_status rl_caps_from_json(const char *json, rl_gpu_caps *out, rl_error *err);

#endif
