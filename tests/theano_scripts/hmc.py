"""Hamiltonian Monte Carlo (Duane et al. 1987; Neal 2011) from `scan` and shared
variables, Theano 1.0 style: sample a Gaussian of known mean and covariance and
recover both.

    E(x) = (x - mu)' C^-1 (x - mu) / 2,   H(x, v) = E(x) + v'v / 2
    one move: v ~ N(0, I); n_steps leapfrog steps of size eps (a scan);
    accept the end point with probability min(1, exp(H_start - H_end))

The step size adapts towards a target acceptance rate, as the tutorial's did.
Written for Theano 1.0; only the engine import differs.  Prints one result line
with the true and the sampled mean and covariance.
"""
from __future__ import print_function

import numpy

from DL.backend import theano, T

RandomStreams = theano.tensor.shared_randomstreams.RandomStreams


def kinetic_energy(vel):
    return 0.5 * (vel ** 2).sum(axis=1)


def hamiltonian(pos, vel, energy_fn):
    return energy_fn(pos) + kinetic_energy(vel)


def metropolis_hastings_accept(energy_prev, energy_next, s_rng):
    ediff = energy_prev - energy_next
    return (T.exp(ediff) - s_rng.uniform(size=energy_prev.shape)) >= 0


def simulate_dynamics(initial_pos, initial_vel, stepsize, n_steps, energy_fn):
    """n_steps leapfrog steps from (initial_pos, initial_vel): (final_pos, final_vel)."""
    def leapfrog(pos, vel, step):
        dE_dpos = T.grad(energy_fn(pos).sum(), pos)
        new_vel = vel - step * dE_dpos
        new_pos = pos + step * new_vel
        return [new_pos, new_vel], {}

    initial_energy = energy_fn(initial_pos)
    vel_half_step = initial_vel - 0.5 * stepsize * T.grad(initial_energy.sum(), initial_pos)
    pos_full_step = initial_pos + stepsize * vel_half_step
    (all_pos, all_vel), scan_updates = theano.scan(
        leapfrog, outputs_info=[dict(initial=pos_full_step), dict(initial=vel_half_step)],
        non_sequences=[stepsize], n_steps=n_steps - 1)
    final_pos, final_vel = all_pos[-1], all_vel[-1]
    energy = energy_fn(final_pos)
    final_vel = final_vel - 0.5 * stepsize * T.grad(energy.sum(), final_pos)
    return final_pos, final_vel


def hmc_move(s_rng, positions, energy_fn, stepsize, n_steps):
    initial_vel = s_rng.normal(size=positions.shape)
    final_pos, final_vel = simulate_dynamics(positions, initial_vel, stepsize, n_steps, energy_fn)
    accept = metropolis_hastings_accept(hamiltonian(positions, initial_vel, energy_fn),
                                        hamiltonian(final_pos, final_vel, energy_fn), s_rng)
    return accept, final_pos


def hmc_updates(positions, stepsize, avg_acceptance_rate, final_pos, accept, target_acceptance_rate,
                stepsize_inc, stepsize_dec, stepsize_min, stepsize_max, avg_acceptance_slowness):
    accept_matrix = accept.dimshuffle(0, *(('x',) * (final_pos.ndim - 1)))
    new_positions = T.switch(accept_matrix, final_pos, positions)
    _new_stepsize = T.switch(avg_acceptance_rate > target_acceptance_rate,
                             stepsize * stepsize_inc, stepsize * stepsize_dec)
    new_stepsize = T.clip(_new_stepsize, stepsize_min, stepsize_max)
    mean_dtype = theano.scalar.upcast(accept.dtype, avg_acceptance_rate.dtype)
    new_acceptance_rate = T.add(avg_acceptance_slowness * avg_acceptance_rate,
                                (1.0 - avg_acceptance_slowness) * accept.mean(dtype=mean_dtype))
    return [(positions, new_positions), (stepsize, new_stepsize), (avg_acceptance_rate, new_acceptance_rate)]


class HMC_sampler(object):
    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)

    @classmethod
    def new_from_shared_positions(cls, shared_positions, energy_fn, initial_stepsize=0.01,
                                  target_acceptance_rate=.9, n_steps=20, stepsize_dec=0.98,
                                  stepsize_min=0.001, stepsize_max=0.25, stepsize_inc=1.02,
                                  avg_acceptance_slowness=0.9, seed=12345):
        floatX = theano.config.floatX
        stepsize = theano.shared(numpy.asarray(initial_stepsize, dtype=floatX), 'hmc_stepsize')
        avg_acceptance_rate = theano.shared(numpy.asarray(target_acceptance_rate, dtype=floatX),
                                            'avg_acceptance_rate')
        s_rng = RandomStreams(seed)
        accept, final_pos = hmc_move(s_rng, shared_positions, energy_fn, stepsize, n_steps)
        simulate_updates = hmc_updates(
            shared_positions, stepsize, avg_acceptance_rate, final_pos=final_pos, accept=accept,
            stepsize_min=stepsize_min, stepsize_max=stepsize_max, stepsize_inc=stepsize_inc,
            stepsize_dec=stepsize_dec, target_acceptance_rate=target_acceptance_rate,
            avg_acceptance_slowness=avg_acceptance_slowness)
        # the draws advance by their generators' default updates
        simulate = theano.function([], [], updates=simulate_updates)
        return cls(positions=shared_positions, stepsize=stepsize, stepsize_min=stepsize_min,
                   stepsize_max=stepsize_max, avg_acceptance_rate=avg_acceptance_rate,
                   target_acceptance_rate=target_acceptance_rate, s_rng=s_rng, _updates=simulate_updates,
                   simulate=simulate)

    def draw(self, **kwargs):
        self.simulate()
        return self.positions.get_value(borrow=False)


def sampler_on_nd_gaussian(burnin=300, n_samples=300, dim=3, batchsize=100):
    rng = numpy.random.RandomState(123)
    mu = numpy.array(rng.rand(dim) * 10, dtype=theano.config.floatX)
    cov = numpy.array(rng.rand(dim, dim), dtype=theano.config.floatX)
    cov = (cov + cov.T) / 2.
    cov[numpy.arange(dim), numpy.arange(dim)] = 1.0
    cov_inv = numpy.linalg.inv(cov)

    def gaussian_energy(x):
        return 0.5 * (T.dot((x - mu), cov_inv) * (x - mu)).sum(axis=1)

    position = rng.randn(batchsize, dim).astype(theano.config.floatX)
    position = theano.shared(position)
    sampler = HMC_sampler.new_from_shared_positions(position, gaussian_energy, initial_stepsize=1e-3,
                                                    stepsize_max=0.5)
    for i in range(burnin):
        sampler.draw()
    samples = numpy.asarray([sampler.draw() for r in range(n_samples)]).reshape(-1, dim)
    return mu, cov, samples.mean(axis=0), numpy.cov(samples.T), float(sampler.avg_acceptance_rate.get_value())


if __name__ == '__main__':
    mu, cov, sampled_mu, sampled_cov, acceptance = sampler_on_nd_gaussian()
    flat = lambda a: ",".join("%.4f" % v for v in numpy.ravel(a))
    print("result: true_mean=%s sampled_mean=%s true_cov=%s sampled_cov=%s acceptance_rate=%.3f"
          % (flat(mu), flat(sampled_mu), flat(cov), flat(sampled_cov), acceptance))
