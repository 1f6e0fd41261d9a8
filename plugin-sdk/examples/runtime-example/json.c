#include "json.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *p, *end;
    int depth;
} parser;

static void skip_ws(parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

static json_node *new_node(json_type t) {
    json_node *n = calloc(1, sizeof *n);
    if (n) n->type = t;
    return n;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Parses a string literal at ps->p (which points at the opening quote). */
static char *parse_string(parser *ps) {
    if (ps->p >= ps->end || *ps->p != '"') return NULL;
    ps->p++;
    size_t cap = 16, n = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    while (ps->p < ps->end && *ps->p != '"') {
        unsigned long cp = (unsigned char)*ps->p++;
        if (cp < 0x20) goto fail;
        if (cp == '\\') {
            if (ps->p >= ps->end) goto fail;
            char e = *ps->p++;
            switch (e) {
            case '"': cp = '"'; break;
            case '\\': cp = '\\'; break;
            case '/': cp = '/'; break;
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break;
            case 't': cp = '\t'; break;
            case 'u': {
                if (ps->end - ps->p < 4) goto fail;
                cp = 0;
                for (int i = 0; i < 4; i++) {
                    int h = hexval(*ps->p++);
                    if (h < 0) goto fail;
                    cp = cp * 16 + (unsigned long)h;
                }
                if (cp == 0) goto fail; /* no NUL inside C strings */
                break;
            }
            default: goto fail;
            }
        }
        char enc[4];
        size_t k = 0;
        if (cp < 0x80) enc[k++] = (char)cp;
        else if (cp < 0x800) { enc[k++] = (char)(0xC0 | (cp >> 6)); enc[k++] = (char)(0x80 | (cp & 0x3F)); }
        else { enc[k++] = (char)(0xE0 | (cp >> 12)); enc[k++] = (char)(0x80 | ((cp >> 6) & 0x3F)); enc[k++] = (char)(0x80 | (cp & 0x3F)); }
        if (n + k + 1 > cap) {
            cap = cap * 2 + k;
            char *bigger = realloc(out, cap);
            if (!bigger) goto fail;
            out = bigger;
        }
        memcpy(out + n, enc, k);
        n += k;
    }
    if (ps->p >= ps->end) goto fail;
    ps->p++; /* closing quote */
    out[n] = '\0';
    return out;
fail:
    free(out);
    return NULL;
}

static json_node *parse_value(parser *ps);

static json_node *parse_container(parser *ps, int object) {
    json_node *node = new_node(object ? JSON_OBJECT : JSON_ARRAY);
    json_node **tail;
    if (!node) return NULL;
    tail = &node->child;
    ps->p++; /* [ or { */
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == (object ? '}' : ']')) {
        ps->p++;
        return node;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(ps);
        if (object) {
            key = parse_string(ps);
            if (!key) goto fail;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') { free(key); goto fail; }
            ps->p++;
        }
        json_node *v = parse_value(ps);
        if (!v) { free(key); goto fail; }
        v->key = key;
        *tail = v;
        tail = &v->next;
        skip_ws(ps);
        if (ps->p >= ps->end) goto fail;
        if (*ps->p == ',') { ps->p++; continue; }
        if (*ps->p == (object ? '}' : ']')) { ps->p++; return node; }
        goto fail;
    }
fail:
    json_free(node);
    return NULL;
}

static int match(parser *ps, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) return 0;
    ps->p += n;
    return 1;
}

static json_node *parse_value(parser *ps) {
    if (++ps->depth > 64) return NULL; /* hostile nesting */
    json_node *n = NULL;
    skip_ws(ps);
    if (ps->p >= ps->end) goto out;
    switch (*ps->p) {
    case '{': n = parse_container(ps, 1); break;
    case '[': n = parse_container(ps, 0); break;
    case '"': {
        char *s = parse_string(ps);
        if (!s) break;
        n = new_node(JSON_STRING);
        if (n) n->str = s; else free(s);
        break;
    }
    case 't': if (match(ps, "true") && (n = new_node(JSON_BOOL))) n->boolean = 1; break;
    case 'f': if (match(ps, "false")) n = new_node(JSON_BOOL); break;
    case 'n': if (match(ps, "null")) n = new_node(JSON_NULL); break;
    default: {
        char *endp = NULL;
        char buf[64];
        size_t k = 0;
        while (ps->p + k < ps->end && k < sizeof buf - 1 && strchr("+-0123456789.eE", ps->p[k])) { buf[k] = ps->p[k]; k++; }
        buf[k] = '\0';
        if (k == 0) break;
        double d = strtod(buf, &endp);
        if (endp != buf + k) break;
        ps->p += k;
        if ((n = new_node(JSON_NUMBER))) n->num = d;
    }
    }
out:
    ps->depth--;
    return n;
}

json_node *json_parse(const char *text, size_t len) {
    if (!text) return NULL;
    parser ps = {text, text + len, 0};
    json_node *n = parse_value(&ps);
    skip_ws(&ps);
    if (n && ps.p != ps.end) {
        json_free(n);
        return NULL;
    }
    return n;
}

void json_free(json_node *node) {
    while (node) {
        json_node *next = node->next;
        json_free(node->child);
        free(node->key);
        free(node->str);
        free(node);
        node = next;
    }
}

const json_node *json_get(const json_node *object, const char *key) {
    if (!object || object->type != JSON_OBJECT) return NULL;
    for (const json_node *c = object->child; c; c = c->next)
        if (c->key && strcmp(c->key, key) == 0) return c;
    return NULL;
}

const char *json_get_string(const json_node *object, const char *key) {
    const json_node *n = json_get(object, key);
    return n && n->type == JSON_STRING ? n->str : NULL;
}

size_t json_length(const json_node *array) {
    size_t n = 0;
    if (!array) return 0;
    for (const json_node *c = array->child; c; c = c->next) n++;
    return n;
}

size_t json_quote(char *buf, size_t cap, const char *s) {
    size_t n = strlen(buf);
    const char *hex = "0123456789abcdef";
#define PUT(c) do { if (n + 1 < cap) buf[n++] = (c); } while (0)
    PUT('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { PUT('\\'); PUT((char)c); }
        else if (c < 0x20) { PUT('\\'); PUT('u'); PUT('0'); PUT('0'); PUT(hex[c >> 4]); PUT(hex[c & 15]); }
        else PUT((char)c);
    }
    PUT('"');
#undef PUT
    buf[n < cap ? n : cap - 1] = '\0';
    return n;
}
