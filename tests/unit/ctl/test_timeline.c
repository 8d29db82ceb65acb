/* Unit tests of the device timeline (ctl/timeline.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>
#include <jansson.h>

#include "ctl/timeline.h"

static void test_every_clip_drawn(void **state)
{
	json_t *dev =
	    json_pack("{s:s,s:[{s:i,s:s},{s:i,s:s}],s:[]}", "device", "CAM1", "clips", "index", 3,
		      "storage_now", "on_time", "index", 5, "storage_now", "late", "gaps");
	struct tl_layout *l = NULL;
	const struct tl_box *b;
	size_t n, clips = 0;

	(void)state;
	assert_int_equal(tl_build(dev, NULL, 180, &l), 0);
	b = tl_boxes(l, &n);
	for (size_t i = 0; i < n; i++)
		clips += b[i].kind == TL_BOX_CLIP;
	assert_int_equal(clips, 2);
	tl_free(l);
	json_decref(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_clip_drawn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
