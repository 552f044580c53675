/* JSON output shared by the kernel oracle tools (bpfbed-kexec, bpfbed-kbatch). */
#ifndef BPFBED_TOOLS_JSON_H
#define BPFBED_TOOLS_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A JSON string: quotes, backslashes and control or non-ASCII bytes escaped. */
static void json_string(FILE *out, const char *s, size_t len) {
  fputc('"', out);
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      fputc('\\', out);
      fputc(c, out);
    } else if (c == '\n') {
      fputs("\\n", out);
    } else if (c == '\t') {
      fputs("\\t", out);
    } else if (c < 0x20 || c >= 0x7f) {
      fprintf(out, "\\u%04x", c);
    } else {
      fputc(c, out);
    }
  }
  fputc('"', out);
}

/* Bytes as a JSON string of lower-case hex digits. */
static void json_hex(FILE *out, const uint8_t *bytes, size_t len) {
  static const char digits[] = "0123456789abcdef";
  fputc('"', out);
  for (size_t i = 0; i < len; i++) {
    fputc(digits[bytes[i] >> 4], out);
    fputc(digits[bytes[i] & 15], out);
  }
  fputc('"', out);
}

#endif
