// SPDX-License-Identifier: GPL-2.0
/*
 * cache_crc32c.c - CRC32C (Castagnoli), sliced, with a stripe combine for large buffers.
 */
#include "cache_priv.h"

/* ---- CRC32C ---------------------------------------------------------------------------- */

#define CRC32C_POLY 0x82f63b78u   /* reflected */
#define CRC32C_STRIPE 8192u       /* bytes per lane of the 3-lane loop */

static uint32_t crc32c_table[256];
static int crc32c_hw;
static uint32_t crc32c_shift1, crc32c_shift2; /* x^(8 * STRIPE), x^(16 * STRIPE) mod P */
static pthread_once_t crc32c_once = PTHREAD_ONCE_INIT;

/* a * b modulo P, both reflected polynomials (bit 31 is x^0) */
static uint32_t crc32c_mulmod(uint32_t a, uint32_t b)
{
	uint32_t m = 1u << 31, p = 0;

	for (; m; m >>= 1) {
		if (a & m)
			p ^= b;
		b = b & 1 ? (b >> 1) ^ CRC32C_POLY : b >> 1;
	}
	return p;
}

/* x^(8 * n) modulo P */
static uint32_t crc32c_xpow8n(uint64_t n)
{
	uint32_t r = 1u << 31, sq = 1u << 23; /* x^0; x^8 */

	for (; n; n >>= 1) {
		if (n & 1)
			r = crc32c_mulmod(r, sq);
		sq = crc32c_mulmod(sq, sq);
	}
	return r;
}

static void crc32c_init(void)
{
	uint32_t i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78 : c >> 1;
		crc32c_table[i] = c;
	}
#if defined(__x86_64__)
	crc32c_hw = __builtin_cpu_supports("sse4.2");
#endif
	crc32c_shift1 = crc32c_xpow8n(CRC32C_STRIPE);
	crc32c_shift2 = crc32c_xpow8n(2 * CRC32C_STRIPE);
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc, const uint8_t *p,
								size_t len)
{
	uint64_t c = crc;

	/*
	 * Three independent lanes: the crc32 instruction takes 3 cycles but can start one
	 * per cycle.  The register is linear, so crc(A|B|C) = crc(A) * x^(8|B|+8|C|) ^
	 * crc(B) * x^(8|C|) ^ crc(C), with B and C started from 0.
	 */
	for (; len >= 3 * CRC32C_STRIPE; p += 3 * CRC32C_STRIPE, len -= 3 * CRC32C_STRIPE) {
		uint64_t c1 = 0, c2 = 0, v0, v1, v2;
		size_t i;

		for (i = 0; i < CRC32C_STRIPE; i += 8) {
			memcpy(&v0, p + i, 8);
			memcpy(&v1, p + CRC32C_STRIPE + i, 8);
			memcpy(&v2, p + 2 * CRC32C_STRIPE + i, 8);
			c = __builtin_ia32_crc32di(c, v0);
			c1 = __builtin_ia32_crc32di(c1, v1);
			c2 = __builtin_ia32_crc32di(c2, v2);
		}
		c = crc32c_mulmod(crc32c_shift2, (uint32_t)c) ^
		    crc32c_mulmod(crc32c_shift1, (uint32_t)c1) ^ (uint32_t)c2;
	}
	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
	}
	for (; len; p++, len--)
		c = __builtin_ia32_crc32qi((uint32_t)c, *p);
	return (uint32_t)c;
}
#endif

uint32_t cache_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	pthread_once(&crc32c_once, crc32c_init);
	crc = ~crc;
#if defined(__x86_64__)
	if (crc32c_hw)
		return ~crc32c_sse42(crc, p, len);
#endif
	while (len--)
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}
