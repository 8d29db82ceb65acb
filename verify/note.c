/* note.c: C2SP signed notes with Ed25519, the note key formats, tlog-checkpoint bodies, and
 * tlog-cosignature cosignature/v1 (docs/witness.md).
 *
 * The log-writer thread signs checkpoints with it; custody-verify, custodyctl and the daemon
 * open them.  Everything is synchronous and keeps no state beyond libsodium's one-time
 * initialisation, so any thread may call it (a given signer from one thread at a time).
 *
 * Why it is strict: a checkpoint is what an auditor checks offline with Go's note.Open or any
 * other C2SP implementation, so this file only accepts the C2SP grammar: one em dash and one
 * space, canonical padded base64, the text split from the signatures at the last blank line,
 * nothing after the last signature line.  A note is parsed completely before any signature is
 * checked, so a malformed note is -EBADMSG whichever keys the caller trusts, and the signature
 * outcome (-EKEYREJECTED) never depends on the order of the signature lines.
 *
 * Secrets: the seed and the 64-byte Ed25519 secret key only ever live in sodium_malloc()'d
 * memory (guard pages, locked, wiped by sodium_free()).  A signer keeps its secret key
 * PROT_NOACCESS and makes it readable only around crypto_sign_detached(), so that a stray read
 * anywhere else in the daemon faults instead of leaking the key.  Error messages about a signer
 * key never quote its fields: in a malformed key string they may hold secret base64.
 *
 * One file because key generation, the signer and the verifier keys share the key-string code
 * (split_key(), key_id()) and the secret-key handling of struct vfy_signer, which is opaque and
 * defined only here, and checkpoints are opened through the same strict note parser
 * (note_open()); splitting would export all three.  Cosignatures are here for the same reason:
 * a witness key is a note key with another algorithm byte, and a checkpoint's cosignature lines
 * are checked by the note parser with the log's own signature.  A cosignature key (0x04) never
 * signs a note and a note key never cosigns: the key ID hashes the algorithm byte, so the two
 * signatures cannot be confused. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "base/err.h"
#include "base/i18n.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/utf8.h"
#include "verify/note.h"

#define ALG_ED25519 VFY_ALG_ED25519
#define ALG_COSIG VFY_ALG_COSIG
#define PUB_LEN crypto_sign_PUBLICKEYBYTES
#define SEED_LEN crypto_sign_SEEDBYTES
#define SIG_LEN crypto_sign_BYTES
#define KEY_B64_LEN 44		/* base64 of the algorithm byte and a 32-byte key */
#define SIG_B64_LEN 92		/* base64 of a 4-byte key ID and a 64-byte signature */
#define COSIG_LEN (8 + SIG_LEN) /* a cosignature/v1 timestamped_signature */
#define COSIG_B64_LEN 104	/* base64 of a 4-byte key ID and a cosignature */
#define COSIG_HEADER "cosignature/v1\ntime "
#define COSIG_HEADER_MAX (sizeof(COSIG_HEADER) + 20 + 1) /* with a uint64_t and its newline */
#define ROOT_B64_LEN 44					 /* base64 of a 32-byte hash */
#define SIG_PREFIX "\xe2\x80\x94 "			 /* U+2014 EM DASH, then one space */
#define SIG_PREFIX_LEN 4
#define SKEY_PREFIX "PRIVATE+KEY+"
#define SKEY_PREFIX_LEN 12
#define KEY_FILE_MAX 4096 /* a signer key is about 80 bytes; anything this big is not one */
#define SHOW_MAX 64	  /* bytes of an untrusted string quoted in a message */

_Static_assert(PUB_LEN == sizeof(((struct vfy_verifier *)0)->pub), "Ed25519 public key size");
_Static_assert(SIG_LEN == 64 && SEED_LEN == 32, "Ed25519 sizes");

struct vfy_signer {
	char name[VFY_NAME_MAX + 1];
	uint32_t id;
	uint8_t alg; /* ALG_ED25519 signs notes, ALG_COSIG cosigns checkpoints */
	uint8_t pub[PUB_LEN];
	unsigned char *sk; /* seed || pub, sodium_malloc()'d, PROT_NOACCESS except while signing */
};

/* One parsed signature line; its bytes stay in the note. */
struct sig_line {
	const char *name;
	size_t name_len;
	const char *b64;
	size_t b64_len;
	size_t sig_len; /* decoded bytes after the key ID */
	uint32_t id;
	unsigned line; /* line number in the note */
};

struct note_parts {
	size_t text_len; /* including the text's final newline */
	size_t nsigs;
	struct sig_line sigs[VFY_NOTE_MAX_SIGS];
};

static int sodium_ready(struct err_detail *reterr)
{
	/* Idempotent and thread-safe; sodium_malloc() needs it (it learns the page size there). */
	if (sodium_init() < 0)
		return err_set(reterr, -EIO, _("libsodium could not be initialised"));
	return 0;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* C2SP: "Signed notes MUST be valid UTF-8 and MUST NOT contain any ASCII control characters
 * (those below U+0020) other than newline."  @what names the input in the message. */
static int check_text(const char *s, size_t len, const char *what, int code,
		      struct err_detail *reterr)
{
	unsigned line = 1;
	size_t i = 0;

	while (i < len) {
		uint32_t c;
		size_t k = utf8_decode((const uint8_t *)s + i, len - i, &c);

		if (k == 0)
			return err_set_line(reterr, code, line,
					    _("line %u of the %s is not valid UTF-8"), line, what);
		if (c == '\n')
			line++;
		else if (c == '\r')
			return err_set_line(
			    reterr, code, line,
			    _("line %u of the %s contains a carriage return (CR): lines "
			      "must end with a newline (LF) alone, not CRLF"),
			    line, what);
		else if (c < 0x20)
			return err_set_line(
			    reterr, code, line,
			    _("line %u of the %s contains the control character 0x%02x"), line,
			    what, (unsigned)c);
		i += k;
	}
	return 0;
}

/* @return NULL when @name is a valid key name, else what is wrong with it. */
static const char *name_problem(const char *name, size_t len)
{
	size_t i = 0;

	if (len == 0)
		return _("is empty");
	if (len > VFY_NAME_MAX)
		return _("is longer than 255 bytes");
	while (i < len) {
		uint32_t c;
		size_t k = utf8_decode((const uint8_t *)name + i, len - i, &c);

		if (k == 0)
			return _("is not valid UTF-8");
		if (c == '+')
			return _("contains a plus sign ('+'), which separates the fields of a key");
		if (utf8_is_space(c))
			return _("contains a space, tab or other white space");
		if (utf8_is_control(c))
			return _("contains a control character");
		i += k;
	}
	return NULL;
}

/* key ID = SHA-256(NAME || 0x0A || ALG || pubkey)[:4], big-endian.  @len <= VFY_NAME_MAX.  The
 * algorithm byte is hashed so that one Ed25519 key used both ways gets two key IDs, and a note
 * signature can never be taken for a cosignature. */
static int key_id(const char *name, size_t len, uint8_t alg, const uint8_t pub[PUB_LEN],
		  uint32_t *ret)
{
	uint8_t buf[VFY_NAME_MAX + 2 + PUB_LEN], md[VFY_HASH_LEN];
	int r;

	memcpy(buf, name, len);
	buf[len] = '\n';
	buf[len + 1] = alg;
	memcpy(buf + len + 2, pub, PUB_LEN);
	r = vfy_sha256(buf, len + 2 + PUB_LEN, md);
	if (r < 0)
		return r;
	*ret = get_be32(md);
	return 0;
}

/* Check that @b64 is canonical padded base64 and keep its first @outmax decoded bytes.  It is
 * decoded in pieces so that a long signature by an unknown key (post-quantum ones are nearly
 * 5 kB) needs no buffer of its size.  @return the whole decoded length, or -EBADMSG. */
static int b64_decode_head(const char *b64, size_t len, uint8_t *out, size_t outmax)
{
	enum { PIECE = 256 }; /* a multiple of 4, so pieces are whole base64 groups */
	uint8_t buf[PIECE / 4 * 3];
	size_t total = 0;

	if (len == 0 || len % 4 != 0)
		return -EBADMSG;
	/* Each piece alone would accept padding at its end: allow '=' only in the last group. */
	for (size_t i = 0; i + 2 < len; i++)
		if (b64[i] == '=')
			return -EBADMSG;
	for (size_t off = 0; off < len; off += PIECE) {
		size_t n = len - off < PIECE ? len - off : PIECE;
		int r = vfy_b64_decode(b64 + off, n, buf, sizeof(buf));

		if (r < 0)
			return -EBADMSG;
		if (total < outmax)
			memcpy(out + total, buf,
			       (size_t)r < outmax - total ? (size_t)r : outmax - total);
		total += (size_t)r;
	}
	return (int)total;
}

static bool is_ascii_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

struct key_fields {
	const char *name;
	size_t name_len;
	uint32_t id;
	const char *data; /* base64 of the algorithm byte and the key */
	size_t data_len;
};

/* Split "NAME+KEYID+BASE64".  The base64 may itself hold '+', so only the first two are
 * separators.  @kind names the key in messages; @secret keeps the key's fields out of them. */
static int split_key(const char *s, size_t len, const char *kind, bool secret,
		     struct key_fields *ret, struct err_detail *reterr)
{
	const char *plus = memchr(s, '+', len), *why;
	char shown[SHOW_MAX + 4];
	uint8_t idb[4];
	uint32_t id;

	if (!plus || (size_t)(s + len - plus) < 1 + 8 + 1 + 1 || plus[9] != '+')
		return err_set(reterr, -EINVAL, _("not a %s key: its form is %sNAME+KEYID+BASE64"),
			       kind, secret ? SKEY_PREFIX : "");
	why = name_problem(s, (size_t)(plus - s));
	if (why && secret)
		return err_set(reterr, -EINVAL, _("not a valid %s key: the key name %s"), kind,
			       why);
	if (why)
		return err_set(reterr, -EINVAL, _("not a valid %s key: the key name '%s' %s"), kind,
			       utf8_printable(s, (size_t)(plus - s), shown, sizeof(shown)), why);
	if (hex_decode_mem(plus + 1, 8, idb, sizeof(idb)) < 0)
		return err_set(reterr, -EINVAL,
			       _("not a valid %s key: the key ID after the name must be 8 "
				 "lowercase hex digits"),
			       kind);
	id = (uint32_t)idb[0] << 24 | (uint32_t)idb[1] << 16 | (uint32_t)idb[2] << 8 | idb[3];
	ret->name = s;
	ret->name_len = (size_t)(plus - s);
	ret->id = id;
	ret->data = plus + 10;
	ret->data_len = (size_t)(s + len - ret->data);
	return 0;
}

static char *format_vkey(const char *name, uint8_t alg, uint32_t id, const uint8_t pub[PUB_LEN])
{
	uint8_t key[1 + PUB_LEN];
	size_t size = strlen(name) + 1 + 8 + 1 + KEY_B64_LEN + 1;
	char *vkey = malloc(size);
	int off;

	if (!vkey)
		return NULL;
	key[0] = alg;
	memcpy(key + 1, pub, PUB_LEN);
	off = snprintf(vkey, size, "%s+%08" PRIx32 "+", name, id);
	vfy_b64_encode(key, sizeof(key), vkey + off, size - (size_t)off);
	return vkey;
}

static int keygen(const char *name, uint8_t alg, char **ret_skey, char **ret_vkey,
		  struct err_detail *reterr)
{
	unsigned char *raw = NULL, *sk = NULL;
	char *skey = NULL, *vkey = NULL, shown[SHOW_MAX + 4];
	size_t name_len = strlen(name), skey_size;
	const char *why = name_problem(name, name_len);
	uint8_t pub[PUB_LEN];
	uint32_t id;
	int r, off;

	if (why)
		return err_set(reterr, -EINVAL, _("key name '%s' %s"),
			       utf8_printable(name, name_len, shown, sizeof(shown)), why);
	r = sodium_ready(reterr);
	if (r < 0)
		return r;
	skey_size = SKEY_PREFIX_LEN + name_len + 1 + 8 + 1 + KEY_B64_LEN + 1;
	raw = sodium_malloc(1 + SEED_LEN);
	sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	skey = sodium_malloc(skey_size);
	if (!raw || !sk || !skey) {
		r = err_set(reterr, -ENOMEM, _("out of memory for a new key"));
		goto out;
	}
	raw[0] = alg;
	randombytes_buf(raw + 1, SEED_LEN);
	crypto_sign_seed_keypair(pub, sk, raw + 1);
	r = key_id(name, name_len, alg, pub, &id);
	if (r < 0) {
		err_set(reterr, r, _("could not compute the key ID of the new key"));
		goto out;
	}
	vkey = format_vkey(name, alg, id, pub);
	if (!vkey) {
		r = err_set(reterr, -ENOMEM, _("out of memory for a new key"));
		goto out;
	}
	off = snprintf(skey, skey_size, SKEY_PREFIX "%s+%08" PRIx32 "+", name, id);
	vfy_b64_encode(raw, 1 + SEED_LEN, skey + off, skey_size - (size_t)off);
	*ret_skey = skey;
	*ret_vkey = vkey;
	skey = NULL;
	vkey = NULL;
out:
	sodium_free(raw);
	sodium_free(sk);
	sodium_free(skey);
	free(vkey);
	return r;
}

int vfy_keygen(const char *name, char **ret_skey, char **ret_vkey, struct err_detail *reterr)
{
	return keygen(name, ALG_ED25519, ret_skey, ret_vkey, reterr);
}

int vfy_cosig_keygen(const char *name, char **ret_skey, char **ret_vkey, struct err_detail *reterr)
{
	return keygen(name, ALG_COSIG, ret_skey, ret_vkey, reterr);
}

void vfy_secret_free(char *secret)
{
	sodium_free(secret); /* wipes; NULL is a no-op */
}

int vfy_signer_parse(const char *skey, size_t len, struct vfy_signer **ret,
		     struct err_detail *reterr)
{
	struct vfy_signer *s = NULL;
	unsigned char *raw = NULL;
	struct key_fields f;
	uint32_t id;
	int r, n;

	/* Key files usually end in a newline; some editors add more. */
	while (len > 0 && is_ascii_space(skey[len - 1]))
		len--;
	if (len < SKEY_PREFIX_LEN || memcmp(skey, SKEY_PREFIX, SKEY_PREFIX_LEN) != 0)
		return err_set(reterr, -EINVAL,
			       _("not a signer key: it must start with '%s' (a verifier key cannot "
				 "sign)"),
			       SKEY_PREFIX);
	r = split_key(skey + SKEY_PREFIX_LEN, len - SKEY_PREFIX_LEN, _("signer"), true, &f, reterr);
	if (r < 0)
		return r;
	if (f.data_len != KEY_B64_LEN)
		return err_set(
		    reterr, -EINVAL,
		    _("not a valid signer key: the key data must be %d base64 characters "
		      "(the algorithm byte and a 32-byte Ed25519 seed), not %zu"),
		    KEY_B64_LEN, f.data_len);
	r = sodium_ready(reterr);
	if (r < 0)
		return r;
	raw = sodium_malloc(1 + SEED_LEN);
	s = calloc(1, sizeof(*s));
	if (s)
		s->sk = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	if (!raw || !s || !s->sk) {
		r = err_set(reterr, -ENOMEM, _("out of memory for the signer key"));
		goto fail;
	}
	n = vfy_b64_decode(f.data, f.data_len, raw, 1 + SEED_LEN);
	if (n < 0) {
		r = err_set(
		    reterr, -EINVAL,
		    _("not a valid signer key: the key data is not canonical padded base64"));
		goto fail;
	}
	if (n != 1 + SEED_LEN) {
		r = err_set(
		    reterr, -EINVAL,
		    _("not a valid signer key: the key data is %d bytes, not 33 (the algorithm "
		      "byte and a 32-byte Ed25519 seed)"),
		    n);
		goto fail;
	}
	if (raw[0] != ALG_ED25519 && raw[0] != ALG_COSIG) {
		r = err_set(reterr, -EINVAL,
			    _("signer key uses signature algorithm 0x%02x; only Ed25519 (0x01) and "
			      "cosignature/v1 (0x04) are supported"),
			    raw[0]);
		goto fail;
	}
	s->alg = raw[0];
	crypto_sign_seed_keypair(s->pub, s->sk, raw + 1);
	r = key_id(f.name, f.name_len, s->alg, s->pub, &id);
	if (r < 0) {
		err_set(reterr, r, _("could not compute the key ID of the signer key"));
		goto fail;
	}
	memcpy(s->name, f.name, f.name_len);
	s->name[f.name_len] = '\0';
	if (id != f.id) {
		r = err_set(reterr, -EKEYREJECTED,
			    _("signer key '%s': key ID %08" PRIx32
			      " does not match the name and key "
			      "(they give %08" PRIx32 "); the key was damaged or edited"),
			    s->name, f.id, id);
		goto fail;
	}
	s->id = id;
	if (sodium_mprotect_noaccess(s->sk) != 0) {
		r = err_set(reterr, -EIO, _("could not protect the memory of the signer key"));
		goto fail;
	}
	sodium_free(raw);
	*ret = s;
	return 0;
fail:
	sodium_free(raw);
	vfy_signer_free(s);
	return r;
}

int vfy_signer_write(const char *path, const char *skey, struct err_detail *reterr)
{
	size_t len = strlen(skey);
	int fd, r;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = -errno;
		return err_set(reterr, r, _("cannot create '%s': %s%s"), path, strerrordesc_np(-r),
			       r == -EEXIST
				   ? _(" (a key file is never overwritten; choose another name)")
				   : "");
	}
	/* Exactly 0600 whatever the umask took off: the owner reads it back. */
	if (fchmod(fd, 0600) < 0 || file_write_full(fd, skey, len) < 0 ||
	    file_write_full(fd, "\n", 1) < 0 || fsync(fd) < 0) {
		r = errno ? -errno : -EIO;
		close(fd);
		unlink(path);
		return err_set(reterr, r, _("cannot write '%s': %s"), path, strerrordesc_np(-r));
	}
	if (close(fd) < 0) {
		r = -errno;
		unlink(path);
		return err_set(reterr, r, _("cannot write '%s': %s"), path, strerrordesc_np(-r));
	}
	return 0;
}

int vfy_signer_load(const char *path, struct vfy_signer **ret, struct err_detail *reterr)
{
	char *buf = NULL, ebuf[128];
	struct stat st;
	size_t n = 0;
	ssize_t k;
	int fd, r;

	/* O_NOFOLLOW: the key is the file named, not what a symlink planted beside it points to.
	 * O_NONBLOCK: a FIFO put in its place must not hang us; regular files ignore the flag. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		if (r == -ELOOP)
			return err_set(
			    reterr, -EPERM,
			    _("key file '%s' is a symbolic link; give the path of the key "
			      "file itself"),
			    path);
		return err_set(reterr, r, _("cannot open key file '%s': %s"), path,
			       strerror_r(-r, ebuf, sizeof(ebuf)));
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		err_set(reterr, r, _("cannot stat key file '%s': %s"), path,
			strerror_r(-r, ebuf, sizeof(ebuf)));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = err_set(reterr, -EPERM, _("key file '%s' is not a regular file"), path);
		goto out;
	}
	if (st.st_mode & 077) {
		r = err_set(reterr, -EPERM,
			    _("key file '%s' has mode %04o; it must be 0600 (chmod 600 '%s')"),
			    path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	if (st.st_uid != geteuid()) {
		r = err_set(
		    reterr, -EPERM,
		    _("key file '%s' is owned by uid %u, but this program runs as uid %u; the "
		      "key must belong to the user that signs (chown %u '%s')"),
		    path, (unsigned)st.st_uid, (unsigned)geteuid(), (unsigned)geteuid(), path);
		goto out;
	}
	if (st.st_size > KEY_FILE_MAX) {
		r = err_set(reterr, -EINVAL,
			    _("key file '%s' is %jd bytes, too large for a signer key"), path,
			    (intmax_t)st.st_size);
		goto out;
	}
	r = sodium_ready(reterr);
	if (r < 0)
		goto out;
	buf = sodium_malloc(KEY_FILE_MAX + 1);
	if (!buf) {
		r = err_set(reterr, -ENOMEM, _("out of memory for key file '%s'"), path);
		goto out;
	}
	/* Read to EOF rather than trusting st_size: the file may change under us.  Not
	 * file_read_fd(): the key must stay in sodium_malloc()'d memory, wiped when freed. */
	k = file_read_full(fd, buf, KEY_FILE_MAX + 1);
	if (k < 0) {
		r = (int)k;
		err_set(reterr, r, _("cannot read key file '%s': %s"), path,
			strerror_r(-r, ebuf, sizeof(ebuf)));
		goto out;
	}
	n = (size_t)k;
	if (n > KEY_FILE_MAX) {
		r = err_set(reterr, -EINVAL, _("key file '%s' is too large for a signer key"),
			    path);
		goto out;
	}
	r = vfy_signer_parse(buf, n, ret, reterr);
	if (r < 0)
		err_prefix(reterr, _("key file '%s'"), path);
out:
	sodium_free(buf); /* wipes the key string */
	close(fd);
	return r;
}

struct vfy_signer *vfy_signer_free(struct vfy_signer *s)
{
	if (!s)
		return NULL;
	sodium_free(s->sk); /* makes the pages writable again, then wipes them */
	free(s);
	return NULL;
}

const char *vfy_signer_name(const struct vfy_signer *s)
{
	return s->name;
}

char *vfy_signer_vkey(const struct vfy_signer *s)
{
	return format_vkey(s->name, s->alg, s->id, s->pub);
}

uint8_t vfy_signer_alg(const struct vfy_signer *s)
{
	return s->alg;
}

int vfy_verifier_parse(const char *vkey, size_t len, struct vfy_verifier *ret,
		       struct err_detail *reterr)
{
	uint8_t key[1 + PUB_LEN];
	char shown[SHOW_MAX + 4];
	struct key_fields f;
	uint32_t id;
	int r, n;

	while (len > 0 && is_ascii_space(vkey[0]))
		vkey++, len--;
	while (len > 0 && is_ascii_space(vkey[len - 1]))
		len--;
	if (len >= SKEY_PREFIX_LEN && memcmp(vkey, SKEY_PREFIX, SKEY_PREFIX_LEN) == 0)
		return err_set(reterr, -EINVAL,
			       _("this is a signer key, not a verifier key: give the verifier key "
				 "printed when the key was made, and keep the signer key secret"));
	r = split_key(vkey, len, _("verifier"), false, &f, reterr);
	if (r < 0)
		return r;
	utf8_printable(f.name, f.name_len, shown, sizeof(shown));
	n = b64_decode_head(f.data, f.data_len, key, sizeof(key));
	if (n < 0)
		return err_set(reterr, -EINVAL,
			       _("verifier key '%s': the key data is not canonical padded base64"),
			       shown);
	if (key[0] != ALG_ED25519 && key[0] != ALG_COSIG)
		return err_set(reterr, -EINVAL,
			       _("verifier key '%s' uses signature algorithm 0x%02x; only Ed25519 "
				 "(0x01) and cosignature/v1 (0x04) are supported"),
			       shown, key[0]);
	if (n != 1 + PUB_LEN)
		return err_set(reterr, -EINVAL,
			       _("verifier key '%s': an Ed25519 key has 32 bytes, this one has %d"),
			       shown, n - 1);
	r = key_id(f.name, f.name_len, key[0], key + 1, &id);
	if (r < 0)
		return err_set(reterr, r, _("could not compute the key ID of verifier key '%s'"),
			       shown);
	if (id != f.id)
		return err_set(reterr, -EKEYREJECTED,
			       _("verifier key '%s': key ID %08" PRIx32
				 " does not match the name and "
				 "key (they give %08" PRIx32 "); the key was mistyped or altered"),
			       shown, f.id, id);
	memcpy(ret->name, f.name, f.name_len);
	ret->name[f.name_len] = '\0';
	ret->id = id;
	ret->alg = key[0];
	memcpy(ret->pub, key + 1, PUB_LEN);
	return 0;
}

int vfy_note_sign(const char *text, size_t len, struct vfy_signer *s, char **ret_note,
		  struct err_detail *reterr)
{
	uint8_t sig[4 + SIG_LEN];
	char b64[SIG_B64_LEN + 1], *note;
	size_t name_len = strlen(s->name), note_len, off = 0;
	int r;

	if (s->alg != ALG_ED25519)
		return err_set(
		    reterr, -EINVAL,
		    _("key '%s' is a cosignature/v1 (witness) key: it cosigns checkpoints, "
		      "it does not sign notes"),
		    s->name);
	if (len == 0 || text[len - 1] != '\n')
		return err_set(reterr, -EINVAL, _("the note text must end with a newline"));
	r = check_text(text, len, _("note text"), -EINVAL, reterr);
	if (r < 0)
		return r;
	note_len = len + 1 + SIG_PREFIX_LEN + name_len + 1 + SIG_B64_LEN + 1;
	if (note_len > VFY_NOTE_MAX)
		return err_set(reterr, -EINVAL,
			       _("the note text is %zu bytes; signed, it would exceed the limit of "
				 "%d bytes"),
			       len, VFY_NOTE_MAX);
	note = malloc(note_len + 1);
	if (!note)
		return err_set(reterr, -ENOMEM, _("out of memory for the signed note"));
	put_be32(sig, s->id);
	if (sodium_mprotect_readonly(s->sk) != 0) {
		free(note);
		return err_set(reterr, -EIO, _("could not unlock the memory of the signer key"));
	}
	crypto_sign_detached(sig + 4, NULL, (const unsigned char *)text, len, s->sk);
	/* Should this fail, the key merely stays readable; the signature is good either way. */
	(void)sodium_mprotect_noaccess(s->sk);
	vfy_b64_encode(sig, sizeof(sig), b64, sizeof(b64));

	memcpy(note + off, text, len);
	off += len;
	note[off++] = '\n';
	memcpy(note + off, SIG_PREFIX, SIG_PREFIX_LEN);
	off += SIG_PREFIX_LEN;
	memcpy(note + off, s->name, name_len);
	off += name_len;
	note[off++] = ' ';
	memcpy(note + off, b64, SIG_B64_LEN);
	off += SIG_B64_LEN;
	note[off++] = '\n';
	note[off] = '\0';
	*ret_note = note;
	return 0;
}

/* Why a line of the signature block is not "— NAME SIG": catch the look-alikes people paste. */
static const char *prefix_hint(const char *line, size_t len)
{
	if (len >= 1 && line[0] == '-')
		return _(" (it starts with a hyphen '-')");
	if (len >= 3 && memcmp(line, "\xe2\x80\x93", 3) == 0)
		return _(" (it starts with an en dash, U+2013)");
	if (len >= 3 && memcmp(line, "\xe2\x80\x94", 3) == 0)
		return _(" (the em dash is not followed by exactly one space)");
	return "";
}

const char *vfy_note_sig_lines(const char *note, size_t len)
{
	for (size_t i = len; i >= 2; i--)
		if (note[i - 1] == '\n' && note[i - 2] == '\n')
			return note + i;
	return NULL;
}

/* Split @note into its text and signature lines, checking the whole C2SP grammar. */
static int note_parse(const char *note, size_t len, struct note_parts *p, struct err_detail *reterr)
{
	const char *block, *end = note + len, *cur;
	char shown[SHOW_MAX + 4];
	unsigned line = 1;
	int r;

	if (len > VFY_NOTE_MAX)
		return err_set(reterr, -EBADMSG,
			       _("the signed note is %zu bytes, more than the limit of %d bytes"),
			       len, VFY_NOTE_MAX);
	r = check_text(note, len, _("signed note"), -EBADMSG, reterr);
	if (r < 0)
		return r;
	/* The text may hold blank lines itself: the LAST blank line separates it. */
	block = vfy_note_sig_lines(note, len);
	if (!block)
		return err_set(reterr, -EBADMSG,
			       _("no blank line separates the note text from the signature lines"));
	p->text_len = (size_t)(block - 1 - note);
	for (size_t i = 0; i < p->text_len; i++)
		line += note[i] == '\n';
	/* Now @line is the blank line's number. */
	if (block == end)
		return err_set_line(
		    reterr, -EBADMSG, line,
		    _("the note ends with a blank line: signature lines must follow "
		      "the last blank line, and nothing may follow them"));
	if (end[-1] != '\n')
		return err_set(reterr, -EBADMSG,
			       _("the last signature line does not end with a newline"));

	p->nsigs = 0;
	for (cur = block; cur < end;) {
		const char *nl = memchr(cur, '\n', (size_t)(end - cur)), *name, *sp;
		size_t k = p->nsigs + 1, llen = (size_t)(nl - cur);
		struct sig_line *s;
		const char *why;
		uint8_t head[4];
		int n;

		line++;
		if (k > VFY_NOTE_MAX_SIGS)
			return err_set_line(reterr, -EBADMSG, line,
					    _("the note has more than %d signature lines"),
					    VFY_NOTE_MAX_SIGS);
		if (llen < SIG_PREFIX_LEN || memcmp(cur, SIG_PREFIX, SIG_PREFIX_LEN) != 0 ||
		    (llen > SIG_PREFIX_LEN && cur[SIG_PREFIX_LEN] == ' '))
			return err_set_line(reterr, -EBADMSG, line,
					    _("signature line %zu does not start with an em dash "
					      "(U+2014) and one space%s"),
					    k, prefix_hint(cur, llen));
		name = cur + SIG_PREFIX_LEN;
		sp = memchr(name, ' ', (size_t)(nl - name));
		if (!sp)
			return err_set_line(
			    reterr, -EBADMSG, line,
			    _("signature line %zu has no space between the key name and "
			      "the signature"),
			    k);
		why = name_problem(name, (size_t)(sp - name));
		if (why)
			return err_set_line(
			    reterr, -EBADMSG, line, _("signature line %zu: the key name '%s' %s"),
			    k, utf8_printable(name, (size_t)(sp - name), shown, sizeof(shown)),
			    why);
		if (sp + 1 < nl && sp[1] == ' ')
			return err_set_line(
			    reterr, -EBADMSG, line,
			    _("signature line %zu has more than one space after the key "
			      "name"),
			    k);
		n = b64_decode_head(sp + 1, (size_t)(nl - sp - 1), head, sizeof(head));
		if (n < 0)
			return err_set_line(
			    reterr, -EBADMSG, line,
			    _("signature line %zu: the signature is not canonical padded "
			      "base64"),
			    k);
		if (n < 5)
			return err_set_line(
			    reterr, -EBADMSG, line,
			    _("signature line %zu: the signature is only %d bytes; it must "
			      "hold a 4-byte key ID and the signature"),
			    k, n);
		s = &p->sigs[p->nsigs++];
		s->name = name;
		s->name_len = (size_t)(sp - name);
		s->b64 = sp + 1;
		s->b64_len = (size_t)(nl - sp - 1);
		s->sig_len = (size_t)n - 4;
		s->id = get_be32(head);
		s->line = line;
		cur = nl + 1;
	}
	return 0;
}

static bool key_matches(const struct vfy_verifier *key, const struct sig_line *s)
{
	size_t len = strnlen(key->name, sizeof(key->name));

	return key->id == s->id && len == s->name_len && memcmp(key->name, s->name, len) == 0;
}

/* No trusted key signed: say what was expected and what was found, so that a user can tell a
 * replaced log key (same name, new key ID) from a note of another log. */
static int no_trusted_signature(const struct note_parts *p, const struct vfy_verifier *keys,
				size_t nkeys, struct err_detail *reterr)
{
	char want[SHOW_MAX + 4], got[SHOW_MAX + 4];
	const struct sig_line *s = &p->sigs[0];

	for (size_t i = 0; i < nkeys; i++)
		for (size_t j = 0; j < p->nsigs; j++) {
			size_t len = strnlen(keys[i].name, sizeof(keys[i].name));

			if (len != p->sigs[j].name_len ||
			    memcmp(keys[i].name, p->sigs[j].name, len))
				continue;
			return err_set_line(
			    reterr, -EKEYREJECTED, p->sigs[j].line,
			    _("no signature by a trusted key: expected '%s' with key ID "
			      "%08" PRIx32 ", but the note is signed by '%s' with key ID "
			      "%08" PRIx32 " (another key of that name)"),
			    utf8_printable(keys[i].name, len, want, sizeof(want)), keys[i].id, want,
			    p->sigs[j].id);
		}
	utf8_printable(keys[0].name, strnlen(keys[0].name, sizeof(keys[0].name)), want,
		       sizeof(want));
	utf8_printable(s->name, s->name_len, got, sizeof(got));
	return err_set(reterr, -EKEYREJECTED,
		       _("no signature by a trusted key: expected '%s' (key ID %08" PRIx32
			 ")%s, but "
			 "the note is signed by '%s' (key ID %08" PRIx32 ")%s"),
		       want, keys[0].id, nkeys > 1 ? _(" or another trusted key") : "", got, s->id,
		       p->nsigs > 1 ? _(" and other unknown keys") : _(" only"));
}

/* The message a cosignature/v1 signs: the header line, the time line, then the note text.
 * @return its length in *@ret (malloc()'d), or -ENOMEM. */
static int cosig_message(const char *text, size_t len, uint64_t timestamp, char **ret,
			 size_t *ret_len)
{
	char *msg = malloc(COSIG_HEADER_MAX + len);
	int n;

	if (!msg)
		return -ENOMEM;
	n = snprintf(msg, COSIG_HEADER_MAX, COSIG_HEADER "%" PRIu64 "\n", timestamp);
	memcpy(msg + n, text, len);
	*ret = msg;
	*ret_len = (size_t)n + len;
	return 0;
}

/* Check one signature line @s whose name and key ID are @key's, over the note text (the first
 * @text_len bytes of @note).  *@ret_time gets a cosignature's timestamp (0 for a note
 * signature).  @return 0, -EKEYREJECTED, -ENOMEM. */
static int sig_check(const char *note, size_t text_len, const struct vfy_verifier *key,
		     const struct sig_line *s, uint64_t *ret_time, struct err_detail *reterr)
{
	bool cosig = key->alg == ALG_COSIG;
	size_t want = cosig ? COSIG_LEN : SIG_LEN, msg_len = text_len;
	const unsigned char *msg = (const unsigned char *)note;
	char shown[SHOW_MAX + 4], *buf = NULL;
	uint8_t sig[4 + COSIG_LEN];
	uint64_t ts = 0;
	int ok;

	utf8_printable(s->name, s->name_len, shown, sizeof(shown));
	if (s->sig_len != want)
		return err_set_line(reterr, -EKEYREJECTED, s->line,
				    _("signature by '%s' (key ID %08" PRIx32
				      ") does not verify: it "
				      "is %zu bytes, %s is %zu"),
				    shown, s->id, s->sig_len,
				    cosig ? _("a cosignature/v1 (timestamp and Ed25519 signature)")
					  : _("an Ed25519 signature"),
				    want);
	if (vfy_b64_decode(s->b64, s->b64_len, sig, sizeof(sig)) != (int)(4 + want))
		return err_set_line(reterr, -EKEYREJECTED, s->line,
				    _("signature by '%s' (key ID %08" PRIx32 ") cannot be decoded"),
				    shown, s->id);
	if (cosig) {
		for (int i = 0; i < 8; i++)
			ts = ts << 8 | sig[4 + i];
		if (ts > VFY_COSIG_TIME_MAX)
			return err_set_line(reterr, -EKEYREJECTED, s->line,
					    _("cosignature by '%s' (key ID %08" PRIx32 ") has a "
					      "timestamp beyond 2^63-1"),
					    shown, s->id);
		if (cosig_message(note, text_len, ts, &buf, &msg_len) < 0)
			return err_set(reterr, -ENOMEM, _("out of memory checking a cosignature"));
		msg = (const unsigned char *)buf;
	}
	ok = crypto_sign_verify_detached(sig + 4 + want - SIG_LEN, msg, msg_len, key->pub) == 0;
	free(buf);
	if (!ok)
		return err_set_line(
		    reterr, -EKEYREJECTED, s->line,
		    _("%s by '%s' (key ID %08" PRIx32 ") does not verify: the note "
		      "text was changed after signing, or the signature is damaged"),
		    cosig ? _("cosignature") : _("signature"), shown, s->id);
	*ret_time = ts;
	return 0;
}

/* Every signature line of a known key must verify; a key counts once however often it signs.
 * Keys, not lines, drive the loop, so that several trusted keys sharing a name and key ID (a
 * collision C2SP warns about) are each checked. */
static int note_verify(const char *note, const struct note_parts *p,
		       const struct vfy_verifier *keys, size_t nkeys, uint64_t *ret_mask,
		       unsigned *ret_count, struct err_detail *reterr)
{
	uint64_t mask = 0;
	unsigned count = 0;

	for (size_t i = 0; i < nkeys; i++) {
		bool ok = false;

		for (size_t j = 0; j < p->nsigs; j++) {
			uint64_t ts;
			int r;

			if (!key_matches(&keys[i], &p->sigs[j]))
				continue;
			r = sig_check(note, p->text_len, &keys[i], &p->sigs[j], &ts, reterr);
			if (r < 0)
				return r;
			ok = true;
		}
		if (ok) {
			count++;
			if (i < 64)
				mask |= UINT64_C(1) << i;
		}
	}
	if (count == 0)
		return no_trusted_signature(p, keys, nkeys, reterr);
	*ret_mask = mask;
	*ret_count = count;
	return 0;
}

static int note_open(const char *note, size_t len, const struct vfy_verifier *keys, size_t nkeys,
		     size_t *ret_text_len, uint64_t *ret_mask, unsigned *ret_count,
		     struct err_detail *reterr)
{
	struct note_parts p;
	int r;

	if (nkeys == 0)
		return err_set(reterr, -EINVAL, _("no trusted key to check the note against"));
	r = sodium_ready(reterr);
	if (r < 0)
		return r;
	r = note_parse(note, len, &p, reterr);
	if (r < 0)
		return r;
	r = note_verify(note, &p, keys, nkeys, ret_mask, ret_count, reterr);
	if (r < 0)
		return r;
	*ret_text_len = p.text_len;
	return 0;
}

int vfy_note_open(const char *note, size_t len, const struct vfy_verifier *keys, size_t nkeys,
		  size_t *ret_text_len, uint64_t *ret_verified, struct err_detail *reterr)
{
	size_t text_len = 0;
	uint64_t mask = 0;
	unsigned count = 0;
	int r;

	r = note_open(note, len, keys, nkeys, &text_len, &mask, &count, reterr);
	if (r < 0)
		return r;
	if (ret_text_len)
		*ret_text_len = text_len;
	if (ret_verified)
		*ret_verified = mask;
	return 0;
}

int vfy_checkpoint_format(const char *origin, uint64_t size, const uint8_t root[VFY_HASH_LEN],
			  char **ret_body, struct err_detail *reterr)
{
	size_t len = strlen(origin), body_size;
	char b64[ROOT_B64_LEN + 1], *body;

	if (len == 0)
		return err_set(reterr, -EINVAL, _("the checkpoint origin is empty"));
	if (len > VFY_NAME_MAX)
		return err_set(reterr, -EINVAL,
			       _("the checkpoint origin is longer than 255 bytes"));
	for (size_t i = 0; i < len;) {
		uint32_t c;
		size_t k = utf8_decode((const uint8_t *)origin + i, len - i, &c);

		if (k == 0)
			return err_set(reterr, -EINVAL,
				       _("the checkpoint origin is not valid UTF-8"));
		if (c < 0x20)
			return err_set(reterr, -EINVAL, _("the checkpoint origin contains %s"),
				       c == '\n' ? _("a newline") : _("a control character"));
		i += k;
	}
	vfy_b64_encode(root, VFY_HASH_LEN, b64, sizeof(b64));
	body_size = len + 1 + 20 + 1 + ROOT_B64_LEN + 1 + 1; /* 20 digits hold any uint64_t */
	body = malloc(body_size);
	if (!body)
		return err_set(reterr, -ENOMEM, _("out of memory for a checkpoint"));
	snprintf(body, body_size, "%s\n%" PRIu64 "\n%s\n", origin, size, b64);
	*ret_body = body;
	return 0;
}

int vfy_checkpoint_parse(const char *text, size_t len, struct vfy_checkpoint *ret,
			 struct err_detail *reterr)
{
	struct vfy_checkpoint cp;
	const char *cur = text, *end = text + len;
	char shown[SHOW_MAX + 4];
	unsigned line = 0;
	int r, n;

	memset(&cp, 0, sizeof(cp));
	r = check_text(text, len, _("checkpoint"), -EBADMSG, reterr);
	if (r < 0)
		return r;
	if (len == 0 || text[len - 1] != '\n')
		return err_set(reterr, -EBADMSG, _("the checkpoint does not end with a newline"));
	for (; cur < end; cur++) {
		const char *nl = memchr(cur, '\n', (size_t)(end - cur));
		size_t l = (size_t)(nl - cur);

		line++;
		utf8_printable(cur, l, shown, sizeof(shown));
		if (line == 1) {
			if (l == 0)
				return err_set_line(
				    reterr, -EBADMSG, line,
				    _("line 1 (origin) of the checkpoint is empty"));
			if (l > VFY_NAME_MAX)
				return err_set_line(
				    reterr, -EBADMSG, line,
				    _("line 1 (origin) of the checkpoint is longer than "
				      "255 bytes"));
			memcpy(cp.origin, cur, l);
			cp.origin[l] = '\0';
		} else if (line == 2) {
			uint64_t v = 0;

			if (l == 0)
				return err_set_line(
				    reterr, -EBADMSG, line,
				    _("line 2 (tree size) of the checkpoint is empty"));
			for (size_t i = 0; i < l; i++) {
				unsigned d = (unsigned)(cur[i] - '0');

				if (cur[i] < '0' || cur[i] > '9')
					return err_set_line(
					    reterr, -EBADMSG, line,
					    _("line 2 (tree size) of the checkpoint, "
					      "'%s', is not a decimal number"),
					    shown);
				if (v > (UINT64_MAX - d) / 10)
					return err_set_line(
					    reterr, -EBADMSG, line,
					    _("line 2 (tree size) of the checkpoint, "
					      "'%s', does not fit in 64 bits"),
					    shown);
				v = v * 10 + d;
			}
			/* Checked after the digits so that "-0" or "0x1" get the clearer message.
			 */
			if (l > 1 && cur[0] == '0')
				return err_set_line(
				    reterr, -EBADMSG, line,
				    _("line 2 (tree size) of the checkpoint, '%s', has "
				      "a leading zero"),
				    shown);
			cp.size = v;
		} else if (line == 3) {
			if (l == 0)
				return err_set_line(
				    reterr, -EBADMSG, line,
				    _("line 3 (root hash) of the checkpoint is empty"));
			n = b64_decode_head(cur, l, cp.root, sizeof(cp.root));
			if (n < 0)
				return err_set_line(reterr, -EBADMSG, line,
						    _("line 3 (root hash) of the checkpoint is not "
						      "canonical padded base64"));
			if (n != VFY_HASH_LEN)
				return err_set_line(reterr, -EBADMSG, line,
						    _("line 3 (root hash) of the checkpoint is %d "
						      "bytes; a SHA-256 root hash is 32"),
						    n);
		} else if (l == 0) {
			return err_set_line(
			    reterr, -EBADMSG, line,
			    _("line %u (an extension line) of the checkpoint is empty"), line);
		}
		cur = nl;
	}
	if (line < 3)
		return err_set(
		    reterr, -EBADMSG,
		    NG_("the checkpoint has %u line; it needs an origin, a tree size and a "
			"root hash",
			"the checkpoint has %u lines; it needs an origin, a tree size and a "
			"root hash",
			line),
		    line);
	*ret = cp;
	return 0;
}

int vfy_checkpoint_open(const char *note, size_t len, const char *origin,
			const struct vfy_verifier *keys, size_t nkeys, struct vfy_checkpoint *ret,
			unsigned *ret_nsigs, struct err_detail *reterr)
{
	char want[SHOW_MAX + 4], got[SHOW_MAX + 4];
	struct vfy_checkpoint cp;
	size_t text_len = 0;
	uint64_t mask = 0;
	unsigned count = 0;
	int r;

	if (nkeys > 0 && keys[0].alg != ALG_ED25519)
		return err_set(reterr, -EINVAL,
			       _("the log key must be an Ed25519 note key (0x01), not a "
				 "cosignature/v1 witness key"));
	r = note_open(note, len, keys, nkeys, &text_len, &mask, &count, reterr);
	if (r < 0)
		return r;
	/* Witness signatures alone prove nothing about what the log itself committed to. */
	if (!(mask & 1))
		return err_set(
		    reterr, -EKEYREJECTED,
		    _("the checkpoint is not signed by the log key '%s' (key ID %08" PRIx32
		      "); only by other trusted keys"),
		    utf8_printable(keys[0].name, strnlen(keys[0].name, sizeof(keys[0].name)), want,
				   sizeof(want)),
		    keys[0].id);
	r = vfy_checkpoint_parse(note, text_len, &cp, reterr);
	if (r < 0)
		return r;
	if (!origin)
		origin = keys[0].name;
	if (strcmp(cp.origin, origin) != 0)
		return err_set_line(
		    reterr, -ESTALE, 1,
		    _("the checkpoint is for log '%s', not for the expected log '%s'"),
		    utf8_printable(cp.origin, strlen(cp.origin), got, sizeof(got)),
		    utf8_printable(origin, strlen(origin), want, sizeof(want)));
	if (ret)
		*ret = cp;
	if (ret_nsigs)
		*ret_nsigs = count;
	return 0;
}

int vfy_cosign(struct vfy_signer *s, const char *text, size_t len, uint64_t timestamp,
	       char **ret_line, struct err_detail *reterr)
{
	size_t name_len = strlen(s->name), line_len, msg_len, off = 0;
	uint8_t sig[4 + COSIG_LEN];
	char b64[COSIG_B64_LEN + 1], *msg = NULL, *line;
	struct vfy_checkpoint cp;
	int r;

	if (s->alg != ALG_COSIG)
		return err_set(reterr, -EINVAL,
			       _("key '%s' is a note signing key (0x01), not a cosignature/v1 key "
				 "(0x04): it cannot cosign"),
			       s->name);
	if (timestamp > VFY_COSIG_TIME_MAX)
		return err_set(reterr, -EINVAL,
			       _("a cosignature timestamp must not exceed 2^63-1"));
	/* A witness states that it saw this tree: it cosigns checkpoints and nothing else. */
	r = vfy_checkpoint_parse(text, len, &cp, reterr);
	if (r < 0) {
		err_prefix(reterr, _("cannot cosign"));
		if (reterr)
			reterr->code = -EINVAL;
		return -EINVAL;
	}
	line_len = SIG_PREFIX_LEN + name_len + 1 + COSIG_B64_LEN + 1;
	if (len + 1 + line_len > VFY_NOTE_MAX)
		return err_set(
		    reterr, -EINVAL,
		    _("the checkpoint is %zu bytes; cosigned, it would exceed the limit of "
		      "%d bytes"),
		    len, VFY_NOTE_MAX);
	r = sodium_ready(reterr);
	if (r < 0)
		return r;
	line = malloc(line_len + 1);
	if (!line || cosig_message(text, len, timestamp, &msg, &msg_len) < 0) {
		free(line);
		return err_set(reterr, -ENOMEM, _("out of memory for a cosignature"));
	}
	put_be32(sig, s->id);
	for (int i = 0; i < 8; i++)
		sig[4 + i] = (uint8_t)(timestamp >> (56 - 8 * i));
	if (sodium_mprotect_readonly(s->sk) != 0) {
		free(msg);
		free(line);
		return err_set(reterr, -EIO, _("could not unlock the memory of the signer key"));
	}
	crypto_sign_detached(sig + 12, NULL, (const unsigned char *)msg, msg_len, s->sk);
	(void)sodium_mprotect_noaccess(s->sk);
	free(msg);
	vfy_b64_encode(sig, sizeof(sig), b64, sizeof(b64));
	memcpy(line + off, SIG_PREFIX, SIG_PREFIX_LEN);
	off += SIG_PREFIX_LEN;
	memcpy(line + off, s->name, name_len);
	off += name_len;
	line[off++] = ' ';
	memcpy(line + off, b64, COSIG_B64_LEN);
	off += COSIG_B64_LEN;
	line[off++] = '\n';
	line[off] = '\0';
	*ret_line = line;
	return 0;
}

int vfy_cosig_time(const char *note, size_t len, const struct vfy_verifier *w, uint64_t *ret_time,
		   struct err_detail *reterr)
{
	char shown[SHOW_MAX + 4];
	struct note_parts *p;
	uint64_t newest = 0;
	bool found = false;
	int r;

	if (w->alg != ALG_COSIG)
		return err_set(
		    reterr, -EINVAL,
		    _("key '%s' is not a cosignature/v1 key: its signatures carry no time"),
		    utf8_printable(w->name, strnlen(w->name, sizeof(w->name)), shown,
				   sizeof(shown)));
	r = sodium_ready(reterr);
	if (r < 0)
		return r;
	p = malloc(sizeof(*p)); /* a hundred signature lines: too big for a thread's stack */
	if (!p)
		return err_set(reterr, -ENOMEM, _("out of memory reading a note"));
	r = note_parse(note, len, p, reterr);
	for (size_t j = 0; r == 0 && j < p->nsigs; j++) {
		uint64_t ts;

		if (!key_matches(w, &p->sigs[j]))
			continue;
		r = sig_check(note, p->text_len, w, &p->sigs[j], &ts, reterr);
		if (r == 0 && (!found || ts > newest))
			newest = ts;
		found = true;
	}
	free(p);
	if (r < 0)
		return r;
	if (!found)
		return err_set(reterr, -ENOENT,
			       _("the note has no cosignature by '%s' (key ID %08" PRIx32 ")"),
			       utf8_printable(w->name, strnlen(w->name, sizeof(w->name)), shown,
					      sizeof(shown)),
			       w->id);
	*ret_time = newest;
	return 0;
}
