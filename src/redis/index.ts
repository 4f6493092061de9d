/**
 * `oauth-machines/redis`: storage and a cross-process refresh lock on Redis,
 * for servers that run on many machines. Needs a Redis client (node-redis
 * v4/v5 as it is, ioredis through a small wrapper); the package itself
 * depends on none.
 */
export { redisStorage, type RedisClientLike, type RedisSetOptions, type RedisStorageOptions } from './redisStorage.js';
