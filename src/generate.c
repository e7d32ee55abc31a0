#include "generate.h"

#include <stdlib.h>
#include <string.h>

enum { ST_IDLE, ST_PREFILL, ST_SAMPLE, ST_DECODE, ST_FINISH, ST_DONE };
#define RL_GEN_TOP_MAX 64
/* Greedy steps queued ahead of the host: the host's round trip (reading a pick,
 * recording the next step) is hidden while it takes less than this many GPU
 * steps. Four rather than two: the host's 1.5-2.8 ms per step under Dawn in Node
 * swings from one step to the next, near a 2.5 ms GPU step; e2b on an H100 decoded
 * 380-386 tok/s four ahead against 369-380 two ahead (docs/PERF.md, sixth session). */
#define RL_GEN_AHEAD 4


struct rl_gen {
    rl_backend *b;
    const rl_tokenizer *tok;
    rl_host *host;
    rl_sampler *sampler;
    rl_chat_parser *parser;
    float *logits;
    int32_t *ctx;           /* tokens in the backend cache, in order */
    int n_ctx_tokens, ctx_cap;
    int32_t *pending;       /* prompt tokens still to evaluate */
    int n_pending;
    int state, num_predict, cancelled;
    int cand_k;             /* > 0: the backend hands back only this many best logits (GPU top-k) */
    /* greedy chaining: the backend queues steps n+1.. (each one's token = the previous step's pick, on
     * the device) before the host reads step n's pick; spec = such steps in flight (<= RL_GEN_AHEAD);
     * picks is a ring: picks[pick_i] is the pick to read next, the steps in flight write the next ones */
    int chain, spec, pick_i;
    int32_t picks[RL_GEN_AHEAD + 1];
    float top_vals[RL_GEN_TOP_MAX];
    int32_t top_ids[RL_GEN_TOP_MAX];
    uint64_t requests;
    int32_t last_token;
    const char *done_reason;
    /* output: raw text not yet released (held back for stop strings / UTF-8), and this step's pieces */
    strbuf held, text, thinking, piece;
    char *stops[RL_GEN_MAX_STOPS];
    int n_stops;
    rl_gen_stats stats;
    double t_mark;
};

/* Keep up to RL_GEN_AHEAD steps queued beyond the pick about to be read,
 * skipping a step whose token would surely be the last one (token budget or
 * context spent). A new step consumes pick generated + spec + 1, sits at
 * position n_ctx_tokens + spec, and is needed spec + 1 flushes from now. */
static rl_status maybe_chain(rl_gen *g, rl_error *err) {
    while (g->chain && g->spec < RL_GEN_AHEAD && g->n_ctx_tokens + g->spec + 2 <= g->b->n_ctx &&
           (g->num_predict < 0 || g->stats.generated + g->spec + 1 < g->num_predict)) {
        int32_t *slot = &g->picks[(g->pick_i + g->spec + 1) % (RL_GEN_AHEAD + 1)];
        rl_status s = g->b->eval_chained(g->b, slot, g->spec + 1, err);
        if (s) return s;
        g->spec++;
    }
    return RL_OK;
}

/* Run tokens: the whole last logit row, or only its best candidates when the
 * sampler allows it (a GPU reads back a few hundred bytes instead of 1 MB). */
static rl_status run_tokens(rl_gen *g, const int32_t *tokens, int n, rl_error *err) {
    if (g->chain) return g->b->eval_pick(g->b, tokens, n, &g->picks[g->pick_i], err);
    if (g->cand_k) return g->b->eval_top(g->b, tokens, n, g->cand_k, g->top_vals, g->top_ids, err);
    return g->b->eval(g->b, tokens, n, g->logits, err);
}

rl_status rl_gen_new(rl_backend *b, const rl_tokenizer *tok, rl_host *h, rl_gen **out, rl_error *err) {
    rl_gen *g = calloc(1, sizeof *g);
    if (!g) return rl_fail(err, RL_ERR_NOMEM, "generator");
    g->b = b;
    g->tok = tok;
    g->host = h;
    g->logits = malloc((size_t)b->n_vocab * sizeof(float));
    g->ctx_cap = b->n_ctx;
    g->ctx = malloc((size_t)g->ctx_cap * sizeof *g->ctx);
    if (!g->logits || !g->ctx) {
        rl_gen_free(g);
        return rl_fail(err, RL_ERR_NOMEM, "generator buffers");
    }
    sb_init(&g->held);
    sb_init(&g->text);
    sb_init(&g->thinking);
    sb_init(&g->piece);
    *out = g;
    return RL_OK;
}

static void clear_request(rl_gen *g) {
    rl_sampler_free(g->sampler);
    g->sampler = NULL;
    rl_chat_parser_free(g->parser);
    g->parser = NULL;
    free(g->pending);
    g->pending = NULL;
    for (int i = 0; i < g->n_stops; i++) free(g->stops[i]);
    g->n_stops = 0;
}

void rl_gen_free(rl_gen *g) {
    if (!g) return;
    clear_request(g);
    free(g->logits);
    free(g->ctx);
    sb_free(&g->held);
    sb_free(&g->text);
    sb_free(&g->thinking);
    sb_free(&g->piece);
    free(g);
}

static double now(const rl_gen *g) { return g->host && g->host->now_ms ? g->host->now_ms(g->host) : 0; }

rl_status rl_gen_begin(rl_gen *g, const rl_gen_request *req, rl_error *err) {
    clear_request(g);
    memset(&g->stats, 0, sizeof g->stats);
    sb_reset(&g->held);
    g->cancelled = 0;
    g->done_reason = NULL;
    int32_t *ids = NULL;
    size_t n = 0;
    rl_status s = rl_tokenizer_encode(g->tok, req->prompt, strlen(req->prompt), &ids, &n, err);
    if (s) return s;
    if (n == 0) {
        free(ids);
        return rl_fail(err, RL_ERR_INVALID, "empty prompt");
    }
    if ((int)n >= g->b->n_ctx) {
        free(ids);
        return rl_fail(err, RL_ERR_LIMIT, "the prompt is %zu tokens but the context holds %d; raise num_ctx or shorten it",
                       n, g->b->n_ctx);
    }
    /* reuse the cached prefix; at least the last prompt token is evaluated (it yields the logits) */
    int keep = 0;
    while (keep < g->n_ctx_tokens && keep < (int)n - 1 && g->ctx[keep] == ids[keep]) keep++;
    if (keep < g->b->n_past(g->b) && g->b->truncate(g->b, keep, err) != RL_OK) {
        keep = 0; /* a sliding ring no longer holds the prefix: start over */
        if ((s = g->b->truncate(g->b, 0, err))) {
            free(ids);
            return s;
        }
    }
    g->n_ctx_tokens = keep;
    memcpy(g->ctx, ids, (size_t)keep * sizeof *ids);
    g->n_pending = (int)n - keep;
    g->pending = malloc((size_t)g->n_pending * sizeof *ids);
    if (!g->pending) {
        free(ids);
        return rl_fail(err, RL_ERR_NOMEM, "prompt");
    }
    memcpy(g->pending, ids + keep, (size_t)g->n_pending * sizeof *ids);
    g->stats.prompt_tokens = (int)n;
    g->stats.prompt_evaluated = g->n_pending;
    rl_sampler_params sp = req->sampling;
    if (sp.seed == RL_SAMPLER_SEED_RANDOM) { /* no seed asked for: a fresh one per request */
        double t = now(g);
        uint64_t bits;
        memcpy(&bits, &t, sizeof bits);
        uint64_t z = bits ^ ((uint64_t)(uintptr_t)g << 17) ^ (++g->requests * 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        sp.seed = (z ^ (z >> 31)) & 0x7fffffffffffffffull;
    }
    g->sampler = rl_sampler_new(&sp, (size_t)g->b->n_vocab);
    if (!g->sampler) {
        free(ids);
        return rl_fail(err, RL_ERR_NOMEM, "sampler");
    }
    for (size_t i = 0; i < n; i++) rl_sampler_accept(g->sampler, ids[i]); /* penalties see the prompt */
    free(ids);
    g->num_predict = req->sampling.num_predict;
    const int k = rl_sampler_candidates_k(g->sampler);
    g->cand_k = g->b->eval_top && k > 0 && k <= g->b->top_k_max && k <= RL_GEN_TOP_MAX ? k : 0;
    g->chain = k == 1 && g->b->eval_pick && g->b->eval_chained; /* plain greedy: the pick is the argmax */
    g->spec = 0; /* a step left in flight by an earlier request was truncated away above */
    g->pick_i = 0;
    for (int i = 0; i < req->n_stops && i < RL_GEN_MAX_STOPS && req->stops[i]; i++)
        if (req->stops[i][0]) g->stops[g->n_stops++] = strdup(req->stops[i]);
    if (req->parse_chat) {
        g->parser = rl_chat_parser_new(req->think);
        if (!g->parser || rl_chat_parser_prime(g->parser, req->messages, req->tools, err) != RL_OK)
            return err->code ? err->code : rl_fail(err, RL_ERR_NOMEM, "chat parser");
    }
    g->state = ST_PREFILL;
    g->t_mark = now(g);
    return RL_OK;
}

/* Length of the longest suffix of s that is a proper prefix of some stop string. */
static size_t stop_prefix_tail(const rl_gen *g, const char *s, size_t n) {
    size_t best = 0;
    for (int i = 0; i < g->n_stops; i++) {
        size_t m = strlen(g->stops[i]);
        for (size_t k = m - 1 < n ? m - 1 : n; k > best; k--)
            if (!memcmp(s + n - k, g->stops[i], k)) {
                best = k;
                break;
            }
    }
    return best;
}

/* Bytes at the end of s that begin an incomplete UTF-8 sequence. */
static size_t utf8_incomplete_tail(const char *s, size_t n) {
    for (size_t back = 1; back <= 3 && back <= n; back++) {
        unsigned char c = (unsigned char)s[n - back];
        if ((c & 0xC0) == 0x80) continue; /* continuation byte: keep looking for the lead */
        size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        return need > back ? back : 0;
    }
    return 0;
}

/* Release held text up to `upto` bytes into this step's output. */
static rl_status release(rl_gen *g, size_t upto, rl_error *err) {
    if (!upto) return RL_OK;
    if (g->parser) {
        rl_status s = rl_chat_parser_feed(g->parser, g->held.s, upto, &g->text, &g->thinking, err);
        if (s) return s;
    } else {
        sb_append(&g->text, g->held.s, upto);
    }
    memmove(g->held.s, g->held.s + upto, g->held.len - upto);
    g->held.len -= upto;
    g->held.s[g->held.len] = '\0';
    return RL_OK;
}

/* Append a token's text; stop at a stop string; release what can no longer change. */
static rl_status emit_token(rl_gen *g, int32_t tok, int *stopped, rl_error *err) {
    rl_tokenizer_decode_token(g->tok, tok, &g->held);
    if (g->held.failed) return rl_fail(err, RL_ERR_NOMEM, "output text");
    for (int i = 0; i < g->n_stops; i++) {
        const char *hit = g->held.len ? strstr(g->held.s, g->stops[i]) : NULL;
        if (hit) {
            *stopped = 1;
            rl_status s = release(g, (size_t)(hit - g->held.s), err);
            sb_reset(&g->held); /* the stop string and what follows it are not output (finish releases held) */
            return s;
        }
    }
    size_t keep = stop_prefix_tail(g, g->held.s, g->held.len);
    size_t u = utf8_incomplete_tail(g->held.s, g->held.len);
    if (u > keep) keep = u;
    return release(g, g->held.len - keep, err);
}

static rl_status finish(rl_gen *g, const char *reason, rl_error *err) {
    g->done_reason = reason;
    rl_status s = RL_OK;
    if (g->spec) { /* the steps queued ahead follow a token that ends the output: drop them */
        g->spec = 0;
        if ((s = g->b->truncate(g->b, g->n_ctx_tokens, err))) return s;
    }
    s = release(g, g->held.len, err);
    if (!s && g->parser) s = rl_chat_parser_finish(g->parser, &g->text, &g->thinking, err);
    g->state = ST_DONE;
    return s;
}

static int flags_for_output(const rl_gen *g) { return g->text.len || g->thinking.len ? RL_GEN_TEXT : 0; }

int rl_gen_step(rl_gen *g, rl_error *err) {
    sb_reset(&g->text);
    sb_reset(&g->thinking);
    for (;;) {
        switch (g->state) {
        case ST_PREFILL:
            if (g->cancelled) {
                g->state = ST_FINISH;
                break;
            }
            if (run_tokens(g, g->pending, g->n_pending, err)) return -1;
            memcpy(g->ctx + g->n_ctx_tokens, g->pending, (size_t)g->n_pending * sizeof *g->pending);
            g->n_ctx_tokens += g->n_pending;
            if (maybe_chain(g, err)) return -1;
            g->state = ST_SAMPLE;
            if (g->b->async) return RL_GEN_FLUSH;
            break;
        case ST_SAMPLE: {
            double t = now(g);
            if (g->stats.generated == 0) g->stats.prompt_ms = t - g->t_mark;
            else g->stats.gen_ms += t - g->t_mark;
            g->t_mark = t;
            if (g->cancelled) {
                g->state = ST_FINISH;
                break;
            }
            int32_t tok = g->chain  ? g->picks[g->pick_i]
                          : g->cand_k ? rl_sampler_sample_top(g->sampler, g->top_ids, g->top_vals, (size_t)g->b->take_top(g->b))
                                    : rl_sampler_sample(g->sampler, g->logits, (size_t)g->b->n_vocab);
            if (tok < 0 || tok >= g->b->n_vocab) {
                rl_fail(err, RL_ERR_INVALID, "the sampler found no valid token (are the logits NaN?)");
                return -1;
            }
            g->stats.generated++;
            if (rl_tokenizer_is_eog(g->tok, tok)) {
                if (finish(g, "stop", err)) return -1;
                return RL_GEN_DONE | flags_for_output(g);
            }
            rl_sampler_accept(g->sampler, tok);
            int stopped = 0;
            if (emit_token(g, tok, &stopped, err)) return -1;
            if (stopped) {
                if (finish(g, "stop", err)) return -1;
                return RL_GEN_DONE | flags_for_output(g);
            }
            if ((g->num_predict >= 0 && g->stats.generated >= g->num_predict) || g->n_ctx_tokens + 1 > g->b->n_ctx) {
                if (finish(g, "length", err)) return -1;
                return RL_GEN_DONE | flags_for_output(g);
            }
            g->last_token = tok;
            g->state = ST_DECODE;
            if (flags_for_output(g)) return RL_GEN_TEXT; /* stream; decode on the next call */
            break;
        }
        case ST_DECODE:
            if (g->spec) { /* already queued: its token was this pick; its own pick is the ring's next */
                g->spec--;
                g->pick_i = (g->pick_i + 1) % (RL_GEN_AHEAD + 1);
            } else if (run_tokens(g, &g->last_token, 1, err)) {
                return -1;
            }
            g->ctx[g->n_ctx_tokens++] = g->last_token;
            if (maybe_chain(g, err)) return -1;
            g->state = ST_SAMPLE;
            if (g->b->async) return RL_GEN_FLUSH;
            break;
        case ST_FINISH:
            if (finish(g, "stop", err)) return -1;
            return RL_GEN_DONE | flags_for_output(g);
        case ST_DONE:
            return RL_GEN_DONE;
        default:
            rl_fail(err, RL_ERR_INVALID, "no request: call rl_gen_begin first");
            return -1;
        }
    }
}

const char *rl_gen_text(const rl_gen *g, size_t *len) {
    if (len) *len = g->text.len;
    return g->text.s ? g->text.s : "";
}

const char *rl_gen_thinking(const rl_gen *g, size_t *len) {
    if (len) *len = g->thinking.len;
    return g->thinking.s ? g->thinking.s : "";
}

size_t rl_gen_tool_calls(const rl_gen *g, const rl_tool_call **calls) {
    if (!g->parser) {
        *calls = NULL;
        return 0;
    }
    return rl_chat_parser_tool_calls(g->parser, calls);
}

const char *rl_gen_done_reason(const rl_gen *g) { return g->done_reason; }
const rl_gen_stats *rl_gen_get_stats(const rl_gen *g) { return &g->stats; }

const int32_t *rl_gen_context(const rl_gen *g, int *n) {
    *n = g->n_ctx_tokens;
    return g->ctx;
}

void rl_gen_cancel(rl_gen *g) { g->cancelled = 1; }
