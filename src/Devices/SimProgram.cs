namespace VethXdp.Devices;

/// <summary>A program the world runs and the engine it actually runs on (the result names them).</summary>
/// <param name="Device">The device it is attached to; for a devmap egress program, the devmap's name.</param>
/// <param name="Mode">"native", "generic" or "devmap" (a devmap entry's egress program).</param>
/// <param name="ObjectName">The scenario's name for the object.</param>
/// <param name="ProgramName">The program's name.</param>
/// <param name="Engine">The engine: interp, jit-checked or jit.</param>
public sealed record SimProgram(string Device, string Mode, string ObjectName, string ProgramName, string Engine);
