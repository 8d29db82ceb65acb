/* err.c: the fixed-size error detail.  No allocation, so it is safe under -ENOMEM and from any
 * thread. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/err.h"

/* A message cut to fit (here, or in a caller's own buffer before it reached here) may end in
 * the first bytes of a UTF-8 character: a translated message is mostly 3-byte characters.  Drop
 * them, so that what is printed is whole characters only. */
static void trim_partial_utf8(char *s)
{
	size_t len = strlen(s), lead = len, need;
	unsigned char c;

	while (lead > 0 && len - lead < 4 && ((unsigned char)s[lead - 1] & 0xc0) == 0x80)
		lead--;
	if (lead == 0)
		return;
	c = (unsigned char)s[lead - 1];
	need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	if (need > 1 && len - (lead - 1) < need)
		s[lead - 1] = '\0';
}

static void err_vset(struct err_detail *e, int code, unsigned line, const char *fmt, va_list ap)
{
	if (!e)
		return;
	e->code = code;
	e->line = line;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	trim_partial_utf8(e->msg);
}

int err_set(struct err_detail *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(e, code, 0, fmt, ap);
	va_end(ap);
	return code;
}

int err_set_line(struct err_detail *e, int code, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err_vset(e, code, line, fmt, ap);
	va_end(ap);
	return code;
}

void err_prefix(struct err_detail *e, const char *fmt, ...)
{
	char prefix[128];
	size_t plen, mlen;
	va_list ap;

	if (!e)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	trim_partial_utf8(prefix);
	/* "prefix: message", cut to fit; the message moves right in place. */
	plen = strlen(prefix);
	mlen = strnlen(e->msg, sizeof(e->msg) - 1);
	if (plen + 2 + mlen > sizeof(e->msg) - 1)
		mlen = sizeof(e->msg) - 1 - plen - 2;
	memmove(e->msg + plen + 2, e->msg, mlen);
	memcpy(e->msg, prefix, plen);
	e->msg[plen] = ':';
	e->msg[plen + 1] = ' ';
	e->msg[plen + 2 + mlen] = '\0';
	trim_partial_utf8(e->msg);
}

const char *err_name(int code)
{
	switch (-code) {
	case EPERM:
		return "EPERM";
	case ENOENT:
		return "ENOENT";
	case EIO:
		return "EIO";
	case EBADF:
		return "EBADF";
	case ENOMEM:
		return "ENOMEM";
	case EACCES:
		return "EACCES";
	case EBUSY:
		return "EBUSY";
	case EEXIST:
		return "EEXIST";
	case EINVAL:
		return "EINVAL";
	case ENOSPC:
		return "ENOSPC";
	case ERANGE:
		return "ERANGE";
	case E2BIG:
		return "E2BIG";
	case EMSGSIZE:
		return "EMSGSIZE";
	case EBADMSG:
		return "EBADMSG";
	case EPROTO:
		return "EPROTO";
	case ENOKEY:
		return "ENOKEY";
	case EKEYREJECTED:
		return "EKEYREJECTED";
	case ESTALE:
		return "ESTALE";
	case ENOTSUP:
		return "ENOTSUP";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	default:
		return "E?";
	}
}
