namespace VethXdp.Reports.Cfg;

/// <summary>One line of a block's text in a picture.</summary>
/// <param name="Text">The line (<c>  12: r1 = *(u32 *)(r6 +8)</c>, or <c>; s-&gt;off += 2; @ file.c:51</c>).</param>
/// <param name="IsSource">True for a source line, false for an instruction.</param>
/// <param name="Slot">The instruction's slot (for a source line: the slot it precedes).</param>
public readonly record struct CfgTextLine(string Text, bool IsSource, int Slot);
