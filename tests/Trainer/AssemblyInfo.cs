// TorchSharp's random generator is process-wide (torch.manual_seed), and several test classes seed it and
// then build models: run them one at a time so that no class's seed is moved by another's.
[assembly: Xunit.CollectionBehavior(DisableTestParallelization = true)]
