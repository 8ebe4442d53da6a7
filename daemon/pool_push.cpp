// A push to a pool of asenetd nodes in two phases (agent.hpp: prepare,
// commit, abort_staged): every node decodes, validates and builds first, and
// only when all of them could does the controller (asenetctl push with
// several --socket) tell each to publish, under one generation number. A node
// that refused, or a controller that went away, leaves every node on its
// running generation.
#include <utility>

#include "daemon/agent.hpp"
#include "protocol/wire.hpp"

namespace asenet::control {

using namespace asenet::dataplane;

bool LiveDataplane::prepare(TableSpec spec, const std::string& token, PublishResult& out, std::string& error,
                            PoolChange members) {
  auto staged = std::make_unique<Staged>();
  staged->token = token;
  staged->members = members;
  staged->hash = wire::spec_hash(spec);
  staged->spec = spec;  // as pushed: a commit after a health change builds it again
  const auto t0 = std::chrono::steady_clock::now();
  staged->tables = build_next(spec, out, error);
  if (!staged->tables) {
    ++pushes_failed_;
    return false;
  }
  staged->version = handover_.generation();
  staged->at = t0;
  out.spec_hash = staged->hash;
  staged_ = std::move(staged);  // replaces an older staged push, unpublished
  out.previous = out.generation = generation();
  out.health_epoch = health_epoch();
  out.build_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return true;
}

bool LiveDataplane::commit(const std::string& token, uint64_t generation, PublishResult& out, std::string& error) {
  expire_staged();
  if (!staged_ || staged_->token != token) {
    error = "no push prepared under this token (none, another, or older than " + std::to_string(kStagedTtl.count()) +
            " s); generation " + std::to_string(generation_) + " stays live";
    ++pushes_failed_;
    return false;
  }
  if (generation <= generation_) {
    error = "generation " + std::to_string(generation) + " is not above this node's " + std::to_string(generation_) +
            "; it stays live";
    ++pushes_failed_;
    return false;
  }
  std::unique_ptr<Staged> s = std::move(staged_);
  const auto t0 = std::chrono::steady_clock::now();
  std::unique_ptr<TableSet> next = std::move(s->tables);
  if (handover_.generation() != s->version) {
    // Tables published since the prepare (a health change, a probe): build
    // again on what is live now, so that no health change is undone.
    next.reset();
    TableSpec spec = s->spec;
    next = build_next(spec, out, error);
    if (!next) {
      ++pushes_failed_;
      return false;
    }
  }
  install(std::move(next), t0, out, map_for(s->members, s->spec));
  ++pushes_;
  generation_ = generation;
  spec_hash_ = std::move(s->hash);
  out.generation = generation_;
  out.spec_hash = spec_hash_;
  return true;
}

bool LiveDataplane::abort_staged(const std::string& token) {
  if (!staged_ || staged_->token != token) return false;
  staged_.reset();
  return true;
}

void LiveDataplane::expire_staged() {
  if (staged_ && std::chrono::steady_clock::now() - staged_->at > kStagedTtl) staged_.reset();
}

}  // namespace asenet::control
