#ifndef DSBUILD_CCURL_SHIM_H
#define DSBUILD_CCURL_SHIM_H
#include <curl/curl.h>

/* curl_easy_setopt, curl_easy_getinfo and curl_multi_setopt are variadic: Swift cannot call them,
   so each argument type gets a typed wrapper. */
static inline CURLcode dsb_easy_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode dsb_easy_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode dsb_easy_setopt_str(CURL *h, CURLoption o, const char *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode dsb_easy_setopt_ptr(CURL *h, CURLoption o, void *v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode dsb_easy_setopt_slist(CURL *h, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(h, o, v); }

typedef size_t (*dsb_data_callback)(char *ptr, size_t size, size_t nmemb, void *userdata);
typedef int (*dsb_xferinfo_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);
static inline CURLcode dsb_easy_setopt_datacb(CURL *h, CURLoption o, dsb_data_callback v) { return curl_easy_setopt(h, o, v); }
static inline CURLcode dsb_easy_setopt_xfercb(CURL *h, CURLoption o, dsb_xferinfo_callback v) { return curl_easy_setopt(h, o, v); }

/* CURLOPT_OPENSOCKETFUNCTION: the engine checks the address curl is about to connect to and opens the socket
   itself, or refuses with CURL_SOCKET_BAD before any packet is sent. */
typedef curl_socket_t (*dsb_opensocket_callback)(void *clientp, curlsocktype purpose, struct curl_sockaddr *address);
static inline CURLcode dsb_easy_setopt_opensocketcb(CURL *h, CURLoption o, dsb_opensocket_callback v) { return curl_easy_setopt(h, o, v); }
static inline curl_socket_t dsb_socket_bad(void) { return CURL_SOCKET_BAD; }
static inline const struct sockaddr *dsb_curl_sockaddr_addr(const struct curl_sockaddr *a) { return &a->addr; }

static inline CURLcode dsb_easy_getinfo_long(CURL *h, CURLINFO i, long *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode dsb_easy_getinfo_off(CURL *h, CURLINFO i, curl_off_t *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode dsb_easy_getinfo_double(CURL *h, CURLINFO i, double *v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode dsb_easy_getinfo_str(CURL *h, CURLINFO i, char **v) { return curl_easy_getinfo(h, i, v); }
static inline CURLcode dsb_easy_getinfo_ptr(CURL *h, CURLINFO i, void **v) { return curl_easy_getinfo(h, i, v); }

static inline CURLMcode dsb_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }

/* Macros Swift does not import (composite #defines) and the CURLMsg union, as plain functions. */
static inline CURLcode dsb_global_init_default(void) { return curl_global_init(CURL_GLOBAL_DEFAULT); }
static inline long dsb_pipe_multiplex(void) { return CURLPIPE_MULTIPLEX; }
static inline long dsb_http_version_2tls(void) { return CURL_HTTP_VERSION_2TLS; }
static inline long dsb_error_size(void) { return CURL_ERROR_SIZE; }
static inline int dsb_msg_is_done(const CURLMsg *m) { return m->msg == CURLMSG_DONE; }
static inline CURLcode dsb_msg_result(const CURLMsg *m) { return m->data.result; }
static inline CURL *dsb_msg_easy(const CURLMsg *m) { return m->easy_handle; }

#endif
