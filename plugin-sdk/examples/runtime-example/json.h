/* A small JSON reader for the example runtime, so that it builds against
 * ctr/plugin.h and libc alone. Parses a document into a tree of nodes; the
 * whole tree is freed with json_free(). Not a validator of every corner of
 * RFC 8259, but it rejects what it does not understand. */
#ifndef EXAMPLE_JSON_H
#define EXAMPLE_JSON_H

#include <stddef.h>

typedef enum { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT } json_type;

typedef struct json_node {
    json_type type;
    char *key;                 /* set when this node is a member of an object */
    char *str;                 /* JSON_STRING */
    double num;                /* JSON_NUMBER */
    int boolean;               /* JSON_BOOL */
    struct json_node *child;   /* first element or member */
    struct json_node *next;    /* next sibling */
} json_node;

/* Returns NULL on a syntax error. */
json_node *json_parse(const char *text, size_t len);
void json_free(json_node *node);

const json_node *json_get(const json_node *object, const char *key);
/* The string value of object[key], or NULL when absent or not a string. */
const char *json_get_string(const json_node *object, const char *key);
size_t json_length(const json_node *array);

/* Appends a JSON string literal (with quotes and escapes) of s to buf. */
size_t json_quote(char *buf, size_t cap, const char *s);

#endif
