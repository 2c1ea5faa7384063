/*
 * serve-wagi-c: a WAGI handler in C, built with clang and wasi-libc only.
 *
 * The server runs it once per request as a CGI script: request in through
 * environment variables (RFC 3875, as Wagi sets them) and stdin, response
 * out on stdout as CGI headers, a blank line, then the body.
 *
 *   GET  /wagi/c          -> 200, a greeting and the request's method and path
 *   POST /wagi/c (body)   -> 200, the body upper-cased
 *   GET  /wagi/c?go=home  -> 302 to /, through a Location header
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *env_or(const char *name, const char *fallback) {
    const char *value = getenv(name);
    return value ? value : fallback;
}

int main(void) {
    const char *method = env_or("REQUEST_METHOD", "GET");
    const char *query = env_or("QUERY_STRING", "");

    if (strcmp(query, "go=home") == 0) {
        /* A Location header alone makes the server answer 302. */
        printf("Location: /\n\n");
        return 0;
    }
    if (strcmp(method, "POST") == 0) {
        printf("Content-Type: text/plain\n\n");
        int c;
        while ((c = getchar()) != EOF) {
            putchar(toupper(c));
        }
        return 0;
    }
    printf("Content-Type: text/plain\n");
    printf("Status: 200 OK\n");
    printf("\n");
    printf("Hello from C!\n");
    printf("method=%s path=%s query=%s\n", method, env_or("PATH_INFO", ""), query);
    return 0;
}
