// libcurl (Debian: libcurl4-openssl-dev) for the Flower node's HTTPS: FoundationNetworking on
// Linux gives no way to trust a private certificate authority. curl_easy_setopt and
// curl_easy_getinfo are variadic, which Swift cannot call, so these wrappers fix their types.
#ifndef DPFL_CCURL_SHIM_H
#define DPFL_CCURL_SHIM_H
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

static inline CURLcode dpfl_curl_set_long(CURL *handle, CURLoption option, long value) {
  return curl_easy_setopt(handle, option, value);
}

static inline CURLcode dpfl_curl_set_pointer(CURL *handle, CURLoption option, const void *value) {
  return curl_easy_setopt(handle, option, value);
}

static inline CURLcode dpfl_curl_set_write(CURL *handle, curl_write_callback callback, void *context) {
  CURLcode code = curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
  return code != CURLE_OK ? code : curl_easy_setopt(handle, CURLOPT_WRITEDATA, context);
}

static inline long dpfl_curl_response_code(CURL *handle) {
  long code = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &code);
  return code;
}
#endif
