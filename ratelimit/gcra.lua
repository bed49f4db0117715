-- One request from a budget of ARGV[1] requests that refills whole in
-- ARGV[2] microseconds, by GCRA (the generic cell rate algorithm): KEYS[1]
-- holds the budget's theoretical arrival time (TAT), the moment of Redis's
-- clock, in microseconds, at which the budget is full again. A missing key
-- is a full budget; the key expires when the budget is full again.
--
-- Answers {allowed (1 or 0), remaining requests, microseconds until one is
-- allowed (0 when this one is), microseconds until the budget is full}.
local size = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local interval = period / size -- what one request takes from the budget
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local tat = math.max(tonumber(redis.call('GET', KEYS[1])) or now, now)
local after = tat + interval -- the TAT once this request is taken
local allowAt = after - period -- the earliest moment the budget holds it
if now < allowAt then
	return {0, 0, math.ceil(allowAt - now), math.ceil(tat - now)}
end
redis.call('SET', KEYS[1], string.format('%d', math.ceil(after)), 'PX', math.ceil((after - now) / 1000))
return {1, math.floor((now - allowAt) / interval), 0, math.ceil(after - now)}
