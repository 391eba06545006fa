// jemalloc's options for the regionmirror binary (and kafka_rate, which links the same allocator
// so the raw limits are measured on equal terms). jemalloc reads this symbol at its first
// allocation (jemalloc(3), "malloc_conf"); MALLOC_CONF in the environment still overrides it.
// Without jemalloc (the Sanitize build) nothing reads it.
//
// tcache_max:131072 (jemalloc's default is 32 KiB). librdkafka compresses every lz4 batch with a
// fresh LZ4F context, a 68 KiB calloc() freed again at the end of the batch, on its broker
// thread. Above tcache_max jemalloc serves such a calloc from its extent cache and zeroes it with
// madvise(MADV_DONTNEED): a TLB shootdown on every CPU the process runs on, then a page fault for
// each of its 17 pages when LZ4 writes them. Per batch. Draining 600k changes from Postgres
// (bench/postgres_drain_bench.sh) that was 11k madvise calls and 80k page faults, and the broker
// thread took 4.4 s of CPU; with the context served from the thread cache (zeroed by memset) it
// takes 1.5 s. The cost: each thread may keep a few more freed blocks of up to 128 KiB.
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's.
const char* malloc_conf = "tcache_max:131072";
}
