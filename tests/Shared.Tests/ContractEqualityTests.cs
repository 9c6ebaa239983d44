using System.Reflection;
using LogQuota.Shared.Contracts;

namespace LogQuota.Shared.Tests;

/// <summary>
/// The contract records that hold collections compare by value, over every property. The samples are built by
/// reflection from the records' constructors, so a property added later is covered here without editing this test:
/// if the record's equality does not compare it, two records that differ only in it compare equal and this fails.
/// </summary>
public sealed class ContractEqualityTests
{
    public static TheoryData<Type> Records => new() { typeof(JobSpec), typeof(SubmitBody), typeof(LogQuotaStatus), typeof(LogQuotaReport) };

    [Theory]
    [MemberData(nameof(Records))]
    public void TwoRecordsBuiltAlike_AreEqual_WithEqualHashes(Type record)
    {
        var a = Sample(record, variant: false);
        var b = Sample(record, variant: false);
        Assert.NotSame(a, b);
        Assert.True(a.Equals(b), $"two {record.Name} records with the same values (fresh collections) compare unequal");
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
    }

    [Theory]
    [MemberData(nameof(Records))]
    public void TwoRecordsThatDifferInOneProperty_AreNotEqual(Type record)
    {
        var constructor = PrimaryConstructor(record);
        var parameters = constructor.GetParameters();
        var baseline = Sample(record, variant: false);
        for (var i = 0; i < parameters.Length; i++)
        {
            var arguments = parameters.Select((p, j) => Value(p.ParameterType, variant: j == i, p.Name!)).ToArray();
            var changed = constructor.Invoke(arguments);
            Assert.False(
                baseline.Equals(changed),
                $"{record.Name}s that differ only in {parameters[i].Name} compare equal: add it to {record.Name}.Equals");
        }
    }

    [Fact]
    public void AMissingEnv_EqualsAnEmptyOne_ButMissingWarningsDifferFromNone()
    {
        Assert.Equal(new JobSpec(["true"]), new JobSpec(["true"], Env: new Dictionary<string, string>()));
        Assert.NotEqual(new JobSpec(["true"]), new JobSpec(["true"], LogQuotaWarnAt: []));
    }

    private static object Sample(Type record, bool variant)
    {
        var constructor = PrimaryConstructor(record);
        return constructor.Invoke(constructor.GetParameters().Select(p => Value(p.ParameterType, variant, p.Name!)).ToArray());
    }

    private static ConstructorInfo PrimaryConstructor(Type record) =>
        record.GetConstructors().Single(c => c.GetParameters() is not [{ } only] || only.ParameterType != record);

    /// <summary>A fresh value of <paramref name="type"/>; the variant differs from the baseline in every part.</summary>
    private static object Value(Type type, bool variant, string name)
    {
        var inner = Nullable.GetUnderlyingType(type) ?? type;
        if (inner == typeof(string))
        {
            return variant ? "other" : "same";
        }

        if (inner == typeof(int) || inner == typeof(long) || inner == typeof(double) || inner == typeof(bool) || inner == typeof(Guid) || inner == typeof(DateTimeOffset))
        {
            return inner switch
            {
                _ when inner == typeof(int) => variant ? 2 : 1,
                _ when inner == typeof(long) => variant ? 2L : 1L,
                _ when inner == typeof(double) => variant ? 2.5 : 1.5,
                _ when inner == typeof(bool) => variant,
                _ when inner == typeof(Guid) => variant ? Guid.Parse("00000000-0000-0000-0000-000000000002") : Guid.Parse("00000000-0000-0000-0000-000000000001"),
                _ => DateTimeOffset.FromUnixTimeMilliseconds(variant ? 2 : 1),
            };
        }

        if (inner.IsEnum)
        {
            return Enum.GetValues(inner).GetValue(variant ? 1 : 0)!;
        }

        if (inner.IsGenericType && inner.GetGenericTypeDefinition() == typeof(IReadOnlyList<>))
        {
            var item = inner.GetGenericArguments()[0];
            var list = Array.CreateInstance(item, 2);
            list.SetValue(Value(item, variant: false, name), 0);
            list.SetValue(Value(item, variant, name), 1);
            return list;
        }

        if (inner == typeof(IReadOnlyDictionary<string, string>))
        {
            return new Dictionary<string, string> { ["A"] = "1", ["B"] = variant ? "3" : "2" };
        }

        if (inner.GetConstructors().Length > 0 && inner.GetMethod("<Clone>$") is not null)
        {
            return Sample(inner, variant);
        }

        throw new InvalidOperationException($"{name}: no sample values for {type}; add them to {nameof(ContractEqualityTests)}.{nameof(Value)}");
    }
}
