-- Library (a prefix of the scripts that add to timelines).
-- add_timeline: add a story's new entries to story ``sid``'s timeline and digest, trim the
-- timeline to its ``keep`` latest, give both ``ttl``. ``times``: the entries' times, their
-- decisions' JSON in ARGV from ``arg`` on; ``digest``: what they add to the digest, summed
-- by the writer ({developments, latest news time or '', outlet, articles, outlet, articles,
-- ...}): a few commands per story, not per entry. Returns the next ARGV.
local function add_timeline(prefix, sid, ttl, times, digest, arg, keep)
  local timeline, digest_key = prefix .. 'tl:' .. sid, prefix .. 'tlx:' .. sid
  local scored = {}
  for j, at in ipairs(times) do
    scored[2 * j - 1], scored[2 * j] = at, ARGV[arg + j - 1]
  end
  if redis.call('ZADD', timeline, unpack(scored)) > 0 and redis.call('ZCARD', timeline) > keep then
    redis.call('ZREMRANGEBYRANK', timeline, 0, -keep - 1)
  end
  for i = 3, #digest, 2 do
    redis.call('HINCRBY', digest_key, 'o:' .. digest[i], digest[i + 1])
  end
  if digest[1] > 0 then redis.call('HINCRBY', digest_key, 'developments', digest[1]) end
  local latest = digest[2]
  if latest ~= '' then
    local last = redis.call('HGET', digest_key, 'last_development')
    if not last or tonumber(latest) > tonumber(last) then
      redis.call('HSET', digest_key, 'last_development', latest)
    end
  end
  redis.call('EXPIRE', timeline, ttl)
  redis.call('EXPIRE', digest_key, ttl)
  return arg + #times
end

-- Note story ``sid`` (last update ``at``) under each outlet of its digest, in ``filings``
-- (outlet -> {score, member, ...}), for ``file_outlets``.
local function note_outlets(prefix, sid, at, filings)
  for _, name in ipairs(redis.call('HKEYS', prefix .. 'tlx:' .. sid)) do
    if string.sub(name, 1, 2) == 'o:' then
      local outlet = string.sub(name, 3)
      local filed = filings[outlet]
      if filed == nil then
        filed = {}
        filings[outlet] = filed
      end
      filed[#filed + 1] = at
      filed[#filed + 1] = sid
    end
  end
end

-- The outlet index: per outlet, one ZADD (a few thousand members at most per call), a trim
-- of the stories past ``cutoff`` when a story was added, and ``ttl``.
local function file_outlets(prefix, filings, ttl, cutoff)
  for outlet, filed in pairs(filings) do
    local key, added = prefix .. 'out:' .. outlet, 0
    for i = 1, #filed, 1000 do
      added = added + redis.call('ZADD', key, unpack(filed, i, math.min(i + 999, #filed)))
    end
    if added > 0 then redis.call('ZREMRANGEBYSCORE', key, '-inf', cutoff) end
    redis.call('EXPIRE', key, ttl)
  end
end
