/*
 * cl_devices.h - for the OpenCL unit tests (test_opencl.c, test_spans.c):
 * the devices present, or a visible skip when this build or machine has
 * none. Header-only; each test file gets its own copy.
 */
#ifndef RS_TEST_CL_DEVICES_H
#define RS_TEST_CL_DEVICES_H

#include <criterion/criterion.h>

#include "opencl.h" /* rs_opencl_devices */

typedef struct devs {
    rs_opencl_devinfo_t *v;
    size_t n;
} devs_t;

/* The devices present (free .v with free()); skips the calling test,
 * saying why, when there is none. */
static inline devs_t need_devices(void)
{
    devs_t d = {NULL, 0};
    if (!rs_opencl_compiled())
        cr_skip_test("this build has no OpenCL support (RS_OPENCL off): the OpenCL tests did not run");
    rs_error_t err = {0};
    const rs_err_e e = rs_opencl_devices(&d.v, &d.n, 0, &err);
    cr_assert_eq(e, RS_OK, "rs_opencl_devices: %s", err.msg);
    if (d.n == 0)
        cr_skip_test("no OpenCL platform or device on this machine (install pocl-opencl-icd): "
                     "the OpenCL tests did not run");
    return d;
}

#endif
