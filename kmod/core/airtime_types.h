/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Fixed-width types and the few helpers the airtime core needs, mapped to
 * the kernel's when built in kbuild and to the C library's otherwise, so
 * that airtime.c compiles unchanged in both places.
 */
#ifndef _AIRTIME_TYPES_H
#define _AIRTIME_TYPES_H

#ifdef __KERNEL__

#include <linux/types.h>
#include <linux/kernel.h>
#include <linux/errno.h>
#include <linux/math64.h>
#include <linux/string.h>

/* 32-bit kernels have no native 64-bit division. */
#define airtime_div64(a, b)	div64_u64((a), (b))

#else /* !__KERNEL__ */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;

#ifndef U32_MAX
#define U32_MAX		((u32)~0U)
#endif
#ifndef U64_MAX
#define U64_MAX		((u64)~0ULL)
#endif
#ifndef S64_MAX
#define S64_MAX		((s64)(U64_MAX >> 1))
#endif

#define airtime_div64(a, b)	((u64)(a) / (u64)(b))

#endif /* __KERNEL__ */

#endif /* _AIRTIME_TYPES_H */
