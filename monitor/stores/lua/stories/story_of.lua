-- KEYS: article->story key. ARGV: prefix. Returns {summary, field, value, ...} or {}.
local sid = redis.call('GET', KEYS[1])
if not sid then return {} end
local summary = redis.call('GET', ARGV[1] .. 'story:sum:' .. sid)
if not summary then return {} end
local reply = redis.call('HGETALL', ARGV[1] .. 'story:mem:' .. sid)
table.insert(reply, 1, summary)
return reply
