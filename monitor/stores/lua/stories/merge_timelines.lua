-- ARGV: the keyspace, from story id, into story id, timeline entries kept. Records the merge
-- link; the link and the merged timeline expire with the story it went into (the TTL of its
-- summary).
local prefix, from, into, keep = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local source, target = prefix .. 'tl:' .. from, prefix .. 'tl:' .. into
local source_digest, target_digest = prefix .. 'tlx:' .. from, prefix .. 'tlx:' .. into
if redis.call('EXISTS', source) == 1 then
  -- A decision is in one timeline only, so the aggregate never chooses.
  redis.call('ZUNIONSTORE', target, 2, target, source, 'AGGREGATE', 'MIN')
  if redis.call('ZCARD', target) > keep then
    redis.call('ZREMRANGEBYRANK', target, 0, -keep - 1)
  end
  redis.call('DEL', source)
end
local fields = redis.call('HGETALL', source_digest)
local ttl = redis.call('TTL', prefix .. 'sum:' .. into)
local updated = redis.call('ZSCORE', prefix .. 'updated', into)
for i = 1, #fields, 2 do
  local name, value = fields[i], fields[i + 1]
  if string.sub(name, 1, 2) == 'o:' then
    -- The outlet index names the story the merged one went into.
    local outlet_key = prefix .. 'out:' .. string.sub(name, 3)
    redis.call('ZREM', outlet_key, from)
    if updated then redis.call('ZADD', outlet_key, updated, into) end
    if ttl > 0 then redis.call('EXPIRE', outlet_key, ttl) end
  end
  if name == 'last_development' then
    local last = redis.call('HGET', target_digest, name)
    if not last or tonumber(value) > tonumber(last) then
      redis.call('HSET', target_digest, name, value)
    end
  else
    redis.call('HINCRBY', target_digest, name, value)
  end
end
redis.call('DEL', source_digest)
redis.call('SET', prefix .. 'merged:' .. from, into)
if ttl > 0 then
  redis.call('EXPIRE', target, ttl)
  redis.call('EXPIRE', target_digest, ttl)
  redis.call('EXPIRE', prefix .. 'merged:' .. from, ttl)
end
return 1
