/* test_macro.c: base/macro.h: LOWER_BOUND() against a linear search on every position of
 * small sorted arrays with repeats, and container_of(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "base/macro.h"

static size_t linear(const int *a, size_t n, int key)
{
	size_t i = 0;

	while (i < n && a[i] < key)
		i++;
	return i;
}

static void test_lower_bound(void **state)
{
	static const int a[] = { 1, 3, 3, 3, 5, 8, 8, 13 };

	(void)state;
	for (size_t n = 0; n <= ELEMENTSOF(a); n++)
		for (int key = 0; key <= 14; key++)
			assert_int_equal(LOWER_BOUND(n, i, a[i] < key), linear(a, n, key));
	/* The first of equal elements, and "at or before" through <=. */
	assert_int_equal(LOWER_BOUND(ELEMENTSOF(a), i, a[i] < 3), 1);
	assert_int_equal(LOWER_BOUND(ELEMENTSOF(a), i, a[i] <= 3) - 1, 3);
	assert_int_equal(LOWER_BOUND(ELEMENTSOF(a), i, a[i] <= 100), ELEMENTSOF(a));
}

static void test_lower_bound_evaluates_n_once(void **state)
{
	static const int a[] = { 2, 4, 6 };
	size_t calls = 0;

	(void)state;
	assert_int_equal(LOWER_BOUND((calls++, ELEMENTSOF(a)), i, a[i] < 5), 2);
	assert_int_equal(calls, 1);
}

struct outer {
	int a;
	char pad[3];
	long member;
};

static void test_container_of(void **state)
{
	struct outer o;

	(void)state;
	assert_ptr_equal(container_of(&o.member, struct outer, member), &o);
	assert_ptr_equal(container_of(&o.a, struct outer, a), &o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lower_bound),
		cmocka_unit_test(test_lower_bound_evaluates_n_once),
		cmocka_unit_test(test_container_of),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
