namespace VethXdp.Devices.Napi;

/// <summary>A NAPI instance (struct napi_struct): a poll function the CPU that owns it runs from its poll list.</summary>
public abstract class NapiInstance
{
    /// <summary>The simulated CPU whose poll list this goes on.</summary>
    public int OwnerCpu { get; internal set; }

    /// <summary>NAPI_STATE_SCHED: on a poll list (or being polled).</summary>
    internal bool Scheduled;

    /// <summary>This NAPI's GRO state: the held flows (napi->gro_hash) and the rx_list batch.</summary>
    internal readonly GroNapi Gro = new();

    /// <summary>The poll function: processes up to <paramref name="budget"/> frames; returns how many.</summary>
    internal abstract int Poll(NapiContext cpu, int budget);

    /// <summary>True when work is waiting (so a completed poll reschedules itself).</summary>
    internal abstract bool HasWork { get; }
}
