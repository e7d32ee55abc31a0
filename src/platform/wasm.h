/* Import/export attributes for the wasm build. Every JS import the core uses is
 * declared here so the list matches js/engine.mjs in one place. */
#ifndef RL_WASM_H
#define RL_WASM_H

#ifdef __wasm__
#define RL_IMPORT(name) __attribute__((import_module("env"), import_name(#name)))
#define RL_EXPORT(name) __attribute__((export_name(#name)))
#else
#define RL_IMPORT(name)
#define RL_EXPORT(name)
#endif

#endif
