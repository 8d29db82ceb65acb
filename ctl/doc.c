/* ctl/doc.c: the page model (ctl/doc.h).  Growing arrays with a sticky failure flag, so that
 * ctl/record.c can describe a page without checking every call, and one place where untrusted
 * text is made safe to show (safe_copy()). */
#include "ctl/doc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"

struct ctl_doc *ctl_doc_new(void)
{
	return calloc(1, sizeof(struct ctl_doc));
}

bool ctl_doc_failed(const struct ctl_doc *d)
{
	return !d || d->failed;
}

static void cell_done(struct ctl_cell *c)
{
	for (size_t i = 0; i < c->n; i++) {
		for (size_t k = 0; k < c->paras[i].n; k++)
			free(c->paras[i].runs[k].text);
		free(c->paras[i].runs);
	}
	free(c->paras);
	*c = (struct ctl_cell){ 0 };
}

static void table_done(struct ctl_table *t)
{
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t i = 0; t->rows[r].cells && i < t->ncols; i++)
			cell_done(&t->rows[r].cells[i]);
		free(t->rows[r].cells);
		cell_done(&t->rows[r].detail);
		free(t->rows[r].anchor);
	}
	free(t->rows);
	for (size_t i = 0; t->head && i < t->ncols; i++)
		cell_done(&t->head[i]);
	free(t->head);
	free(t->widths);
}

struct ctl_doc *ctl_doc_free(struct ctl_doc *d)
{
	if (!d)
		return NULL;
	for (size_t i = 0; i < d->n; i++) {
		struct ctl_block *b = &d->blocks[i];

		cell_done(&b->text);
		table_done(&b->table);
		for (size_t k = 0; k < b->nfields; k++)
			free(b->fields[k].label);
		free(b->fields);
		free(b->id);
	}
	free(d->blocks);
	free(d->lang);
	free(d->title);
	free(d->running);
	free(d->running_right);
	free(d->footer);
	free(d->page_of);
	free(d);
	return NULL;
}

/* Make room for one more item of @size bytes in *@v (holding @n of @cap). */
static bool grow(struct ctl_doc *d, void **v, size_t n, size_t *cap, size_t size)
{
	void *nv;
	size_t nc;

	if (d->failed)
		return false;
	if (n < *cap)
		return true;
	nc = *cap ? *cap * 2 : 4;
	nv = realloc(*v, nc * size);
	if (!nv) {
		d->failed = true;
		return false;
	}
	memset((char *)nv + *cap * size, 0, (nc - *cap) * size);
	*v = nv;
	*cap = nc;
	return true;
}

/* @len bytes of untrusted @s as valid, showable UTF-8: what utf8_is_unsafe() names, NUL and
 * bytes that are not UTF-8 become U+FFFD, one per character or per bad byte. */
static char *safe_copy(const char *s, size_t len)
{
	char *out = malloc(len * 3 + 1), *o = out;
	size_t i = 0;

	if (!out)
		return NULL;
	while (i < len) {
		uint32_t c;
		size_t k = utf8_decode((const uint8_t *)s + i, len - i, &c);

		if (k == 0 || c == 0 || utf8_is_unsafe(c)) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i += k ? k : 1;
			continue;
		}
		memcpy(o, s + i, k);
		o += k;
		i += k;
	}
	*o = '\0';
	return out;
}

void ctl_doc_set(struct ctl_doc *d, char **field, const char *s)
{
	char *c;

	if (d->failed)
		return;
	c = safe_copy(s ? s : "", s ? strlen(s) : 0);
	if (!c) {
		d->failed = true;
		return;
	}
	free(*field);
	*field = c;
}

static struct ctl_block *block(struct ctl_doc *d, enum ctl_block_kind kind)
{
	struct ctl_block *b;

	if (!grow(d, (void **)&d->blocks, d->n, &d->cap, sizeof(*d->blocks)))
		return NULL;
	b = &d->blocks[d->n++];
	*b = (struct ctl_block){ .kind = kind };
	return b;
}

struct ctl_block *ctl_doc_heading(struct ctl_doc *d, unsigned level, const char *id,
				  const char *text)
{
	struct ctl_block *b = block(d, CTL_BLOCK_HEADING);

	if (!b)
		return NULL;
	b->level = level < 1 ? 1 : level > 3 ? 3 : level;
	if (id)
		ctl_doc_set(d, &b->id, id);
	ctl_cell_line(d, &b->text, 0, text);
	return d->failed ? NULL : b;
}

struct ctl_cell *ctl_doc_text(struct ctl_doc *d)
{
	struct ctl_block *b = block(d, CTL_BLOCK_TEXT);

	return b ? &b->text : NULL;
}

struct ctl_cell *ctl_doc_box(struct ctl_doc *d, enum ctl_tone tone)
{
	struct ctl_block *b = block(d, CTL_BLOCK_BOX);

	if (!b)
		return NULL;
	b->tone = tone;
	return &b->text;
}

struct ctl_table *ctl_doc_table(struct ctl_doc *d, size_t ncols, const double *widths, bool head)
{
	struct ctl_block *b = block(d, CTL_BLOCK_TABLE);
	double sum = 0;

	if (!b)
		return NULL;
	b->table.ncols = ncols;
	b->table.widths = calloc(ncols, sizeof(double));
	b->table.head = head ? calloc(ncols, sizeof(struct ctl_cell)) : NULL;
	if (!b->table.widths || (head && !b->table.head)) {
		d->failed = true;
		return NULL;
	}
	for (size_t i = 0; i < ncols; i++)
		sum += widths[i];
	for (size_t i = 0; i < ncols; i++)
		b->table.widths[i] = sum > 0 ? widths[i] / sum : 1.0 / (double)ncols;
	return &b->table;
}

struct ctl_table *ctl_doc_kv_table(struct ctl_doc *d)
{
	static const double w[] = { 0.26, 0.74 };
	struct ctl_table *t = ctl_doc_table(d, 2, w, false);

	if (t)
		t->kv = true;
	return t;
}

void ctl_doc_timeline(struct ctl_doc *d, const json_t *device)
{
	struct ctl_block *b = block(d, CTL_BLOCK_TIMELINE);

	if (b)
		b->device = device;
}

void ctl_doc_legend(struct ctl_doc *d)
{
	block(d, CTL_BLOCK_LEGEND);
}

void ctl_doc_field(struct ctl_doc *d, const char *label, unsigned lines)
{
	struct ctl_block *b = d->n ? &d->blocks[d->n - 1] : NULL;
	struct ctl_field *f;

	/* Fields gather in one form block, so that the form stays together on a page. */
	if (!b || b->kind != CTL_BLOCK_FORM)
		b = block(d, CTL_BLOCK_FORM);
	if (!b)
		return;
	f = realloc(b->fields, (b->nfields + 1) * sizeof(*f));
	if (!f) {
		d->failed = true;
		return;
	}
	b->fields = f;
	f = &b->fields[b->nfields++];
	*f = (struct ctl_field){ .lines = lines };
	ctl_doc_set(d, &f->label, label);
}

struct ctl_cell *ctl_table_head(struct ctl_doc *d, struct ctl_table *t, size_t i)
{
	if (d->failed || !t || !t->head || i >= t->ncols)
		return NULL;
	return &t->head[i];
}

struct ctl_row *ctl_table_row(struct ctl_doc *d, struct ctl_table *t, enum ctl_tone tone,
			      const char *anchor)
{
	struct ctl_row *r;

	if (!t || !grow(d, (void **)&t->rows, t->nrows, &t->cap, sizeof(*t->rows)))
		return NULL;
	r = &t->rows[t->nrows];
	*r = (struct ctl_row){ .tone = tone };
	r->cells = calloc(t->ncols, sizeof(struct ctl_cell));
	if (!r->cells) {
		d->failed = true;
		return NULL;
	}
	t->nrows++;
	if (anchor)
		ctl_doc_set(d, &r->anchor, anchor);
	return d->failed ? NULL : r;
}

struct ctl_cell *ctl_doc_kv(struct ctl_doc *d, struct ctl_table *t, const char *key)
{
	struct ctl_row *r = ctl_table_row(d, t, CTL_TONE_NONE, NULL);

	if (!r)
		return NULL;
	ctl_cell_line(d, &r->cells[0], 0, key);
	return &r->cells[1];
}

struct ctl_para *ctl_cell_para(struct ctl_doc *d, struct ctl_cell *c, unsigned flags)
{
	struct ctl_para *p;

	if (!c || !grow(d, (void **)&c->paras, c->n, &c->cap, sizeof(*c->paras)))
		return NULL;
	p = &c->paras[c->n++];
	*p = (struct ctl_para){ .flags = flags };
	return p;
}

void ctl_para_addn(struct ctl_doc *d, struct ctl_para *p, unsigned flags, enum ctl_tone tone,
		   const char *s, size_t len)
{
	char *t;

	if (!p || !s || !len || !grow(d, (void **)&p->runs, p->n, &p->cap, sizeof(*p->runs)))
		return;
	t = safe_copy(s, len);
	if (!t) {
		d->failed = true;
		return;
	}
	p->runs[p->n++] = (struct ctl_run){ .text = t, .flags = flags, .tone = tone };
}

void ctl_para_add(struct ctl_doc *d, struct ctl_para *p, unsigned flags, enum ctl_tone tone,
		  const char *s)
{
	if (s)
		ctl_para_addn(d, p, flags, tone, s, strlen(s));
}

void ctl_para_addf(struct ctl_doc *d, struct ctl_para *p, unsigned flags, enum ctl_tone tone,
		   const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int n;

	if (!p || d->failed)
		return;
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		d->failed = true;
		return;
	}
	ctl_para_addn(d, p, flags, tone, s, (size_t)n);
	free(s);
}

struct ctl_para *ctl_cell_line(struct ctl_doc *d, struct ctl_cell *c, unsigned flags, const char *s)
{
	struct ctl_para *p = ctl_cell_para(d, c, flags);

	ctl_para_add(d, p, 0, CTL_TONE_NONE, s);
	return p;
}

char *ctl_cell_plain(const struct ctl_cell *c)
{
	size_t len = 1;
	char *s, *o;

	for (size_t i = 0; i < c->n; i++)
		for (size_t k = 0; k < c->paras[i].n; k++)
			len += strlen(c->paras[i].runs[k].text) + 1;
	s = o = malloc(len + c->n);
	if (!s)
		return NULL;
	for (size_t i = 0; i < c->n; i++) {
		if (i)
			*o++ = '\n';
		for (size_t k = 0; k < c->paras[i].n; k++) {
			size_t l = strlen(c->paras[i].runs[k].text);

			memcpy(o, c->paras[i].runs[k].text, l);
			o += l;
		}
	}
	*o = '\0';
	return s;
}
