using System.Buffers.Binary;
using System.Reflection;
using VethXdp.Vm.Helpers;
using VethXdp.Vm.Interpreter;
using VethXdp.Vm.Xdp;

namespace VethXdp.Jit.Emitters;

/// <summary>The members compiled code calls or touches, resolved once.</summary>
internal static class JitMethods
{
    private const BindingFlags Static = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static;

    public static readonly FieldInfo Args = Field(nameof(JitState.Args));
    public static readonly FieldInfo Executed = Field(nameof(JitState.Executed));
    public static readonly FieldInfo Budget = Field(nameof(JitState.Budget));
    public static readonly FieldInfo Env = Field(nameof(JitState.Env));
    public static readonly FieldInfo Depth = Field(nameof(JitState.Depth));
    public static readonly FieldInfo Pc = Field(nameof(JitState.Pc));
    public static readonly FieldInfo Abort = Field(nameof(JitState.Abort));
    public static readonly FieldInfo StackDirty = Field(nameof(JitState.StackDirty));
    public static readonly FieldInfo Current = Field(nameof(JitState.Current));
    public static readonly FieldInfo CtxAddress = Field(nameof(JitState.CtxAddress));
    public static readonly FieldInfo Ctx = Field(nameof(JitState.Ctx));
    public static readonly FieldInfo CtxLive = Field(nameof(JitState.CtxLive));
    public static readonly FieldInfo PacketLo = Field(nameof(JitState.PacketLo));
    public static readonly FieldInfo PacketHi = Field(nameof(JitState.PacketHi));
    public static readonly FieldInfo AccessHints = typeof(JitProgram).GetField(nameof(JitProgram.AccessHints), BindingFlags.NonPublic | BindingFlags.Instance)!;
    public static readonly FieldInfo HelperDelegates = typeof(JitProgram).GetField(nameof(JitProgram.HelperDelegates), BindingFlags.NonPublic | BindingFlags.Instance)!;

    public static readonly FieldInfo FrameReturnSite = FrameField(nameof(JitFrame.ReturnSite));
    public static readonly FieldInfo FrameR6 = FrameField(nameof(JitFrame.R6));
    public static readonly FieldInfo FrameR7 = FrameField(nameof(JitFrame.R7));
    public static readonly FieldInfo FrameR8 = FrameField(nameof(JitFrame.R8));
    public static readonly FieldInfo FrameR9 = FrameField(nameof(JitFrame.R9));
    public static readonly FieldInfo FrameR10 = FrameField(nameof(JitFrame.R10));

    public static readonly MethodInfo PendingTailCall = typeof(RuntimeEnv).GetProperty(nameof(RuntimeEnv.PendingTailCall))!.GetMethod!;
    public static readonly MethodInfo HelperInvoke = typeof(HelperFunc).GetMethod(nameof(HelperFunc.Invoke))!;

    public static readonly MethodInfo UDiv64 = Math(nameof(BpfMath.UDiv64));
    public static readonly MethodInfo SDiv64 = Math(nameof(BpfMath.SDiv64));
    public static readonly MethodInfo UMod64 = Math(nameof(BpfMath.UMod64));
    public static readonly MethodInfo SMod64 = Math(nameof(BpfMath.SMod64));
    public static readonly MethodInfo UDiv32 = Math(nameof(BpfMath.UDiv32));
    public static readonly MethodInfo SDiv32 = Math(nameof(BpfMath.SDiv32));
    public static readonly MethodInfo UMod32 = Math(nameof(BpfMath.UMod32));
    public static readonly MethodInfo SMod32 = Math(nameof(BpfMath.SMod32));

    public static readonly MethodInfo Swap16 = typeof(BinaryPrimitives).GetMethod(nameof(BinaryPrimitives.ReverseEndianness), [typeof(ushort)])!;
    public static readonly MethodInfo Swap32 = typeof(BinaryPrimitives).GetMethod(nameof(BinaryPrimitives.ReverseEndianness), [typeof(uint)])!;
    public static readonly MethodInfo Swap64 = typeof(BinaryPrimitives).GetMethod(nameof(BinaryPrimitives.ReverseEndianness), [typeof(ulong)])!;

    public static readonly MethodInfo EnsureRegions = typeof(JitState).GetMethod(nameof(JitState.EnsureRegions))!;
    public static readonly MethodInfo RefreshPacketBounds = Runtime(nameof(JitRuntime.RefreshPacketBounds));
    public static readonly MethodInfo InOneRegion = Runtime(nameof(JitRuntime.InOneRegion));
    public static readonly MethodInfo LdxB = Runtime(nameof(JitRuntime.LdxB));
    public static readonly MethodInfo LdxH = Runtime(nameof(JitRuntime.LdxH));
    public static readonly MethodInfo LdxW = Runtime(nameof(JitRuntime.LdxW));
    public static readonly MethodInfo LdxDW = Runtime(nameof(JitRuntime.LdxDW));
    public static readonly MethodInfo LdxSB = Runtime(nameof(JitRuntime.LdxSB));
    public static readonly MethodInfo LdxSH = Runtime(nameof(JitRuntime.LdxSH));
    public static readonly MethodInfo LdxSW = Runtime(nameof(JitRuntime.LdxSW));
    public static readonly MethodInfo LdxWUnchecked = Runtime(nameof(JitRuntime.LdxWUnchecked));
    public static readonly MethodInfo LdxSWUnchecked = Runtime(nameof(JitRuntime.LdxSWUnchecked));
    public static readonly MethodInfo StB = Runtime(nameof(JitRuntime.StB));
    public static readonly MethodInfo StH = Runtime(nameof(JitRuntime.StH));
    public static readonly MethodInfo StW = Runtime(nameof(JitRuntime.StW));
    public static readonly MethodInfo StDW = Runtime(nameof(JitRuntime.StDW));
    public static readonly MethodInfo Atomic32 = Runtime(nameof(JitRuntime.Atomic32));
    public static readonly MethodInfo Atomic64 = Runtime(nameof(JitRuntime.Atomic64));
    public static readonly MethodInfo LdAbs = Runtime(nameof(JitRuntime.LdAbs));
    public static readonly MethodInfo PushFrame = Runtime(nameof(JitRuntime.PushFrame));
    public static readonly MethodInfo PopFrame = Runtime(nameof(JitRuntime.PopFrame));
    public static readonly MethodInfo PushCallbackFrame = Runtime(nameof(JitRuntime.PushCallbackFrame));
    public static readonly MethodInfo CallX = Runtime(nameof(JitRuntime.CallX));
    public static readonly MethodInfo TailCall = Runtime(nameof(JitRuntime.TailCall));
    public static readonly MethodInfo BudgetFault = Runtime(nameof(JitRuntime.BudgetFault));
    public static readonly MethodInfo FellOffEnd = Runtime(nameof(JitRuntime.FellOffEnd));
    public static readonly MethodInfo BadEntry = Runtime(nameof(JitRuntime.BadEntry));
    public static readonly MethodInfo BadReturnSite = Runtime(nameof(JitRuntime.BadReturnSite));

    public static readonly MethodInfo FaultPseudoLoad = Fault(nameof(ExecutionFaults.PseudoLoad));
    public static readonly MethodInfo FaultUnknownHelper = Fault(nameof(ExecutionFaults.UnknownHelper));
    public static readonly MethodInfo FaultUnknownKfunc = Fault(nameof(ExecutionFaults.UnknownKfunc));
    public static readonly MethodInfo FaultFramePointerWrite = Fault(nameof(ExecutionFaults.FramePointerWrite));
    public static readonly MethodInfo FaultInvalidOpcode = Fault(nameof(ExecutionFaults.InvalidOpcode));
    public static readonly MethodInfo FaultBudgetExceeded = Fault(nameof(ExecutionFaults.BudgetExceeded));

    /// <summary>True when a 4-byte load at <paramref name="offset"/> of <c>struct xdp_md</c> reads a field
    /// (kernel: xdp_convert_ctx_access()); <see cref="XdpContext.FieldOffset"/> says where compiled code reads it.</summary>
    public static bool IsContextField(int offset) => XdpContext.FieldOffset(offset, out _) >= 0;

    private static FieldInfo Field(string name) =>
        typeof(JitState).GetField(name) ?? throw new MissingFieldException(nameof(JitState), name);

    private static FieldInfo FrameField(string name) =>
        typeof(JitFrame).GetField(name) ?? throw new MissingFieldException(nameof(JitFrame), name);

    private static MethodInfo Math(string name) =>
        typeof(BpfMath).GetMethod(name, Static) ?? throw new MissingMethodException(nameof(BpfMath), name);

    private static MethodInfo Runtime(string name) =>
        typeof(JitRuntime).GetMethod(name, Static) ?? throw new MissingMethodException(nameof(JitRuntime), name);

    private static MethodInfo Fault(string name) =>
        typeof(ExecutionFaults).GetMethod(name, Static) ?? throw new MissingMethodException(nameof(ExecutionFaults), name);
}
